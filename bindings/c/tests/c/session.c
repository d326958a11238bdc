/* session: the MTA session through the C ABI, on the table of cases of the
 * Rust session tests: clients (outside, internal, authenticated,
 * ORIGINATING, local) x SPF results x DMARC policies x decision settings,
 * asserting the action of each stage, the reply, the edit list and the log
 * line; plus the event-loop path and misuse.
 *
 *   session EXAMPLES-DATA-DIR
 *
 * Prints how many checks passed; exits 1 on any failure. */
#include <mailauth.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0, failures = 0;

static void check(int ok, const char *format, ...) {
  checks++;
  if (!ok) {
    failures++;
    va_list args;
    va_start(args, format);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
  }
}

static char *read_file(const char *dir, const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)n + 1);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) {
    data[n] = '\0';
    if (len)
      *len = (size_t)n;
  }
  return data;
}

/* The message as SMTP carries it: every line ending CRLF (a new string). */
static char *crlf(const char *text, size_t *len) {
  size_t n = strlen(text);
  char *out = malloc(2 * n + 1);
  if (!out)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      out[j++] = '\r';
    out[j++] = text[i];
  }
  out[j] = '\0';
  *len = j;
  return out;
}

static const char *DIR_;
static mailauth_resolver *zone;

/* Settings: the examples' signing key, the given extra text. */
static mailauth_settings *settings(const char *extra) {
  char text[4096];
  snprintf(text, sizeof text,
           "authserv_id = \"mx.example.com\"\n"
           "internal_hosts = [\"198.51.100.0/24\"]\n"
           "daemon_names = [\"ORIGINATING\"]\n"
           "%s\n"
           "[[signing.keys]]\nname = \"org\"\ndomain = \"example.org\"\n"
           "selector = \"sel2026\"\nkey_file = \"keys/sel2026.private\"\n"
           "[[signing.rules]]\npattern = \"*@example.org\"\nkey = \"org\"\n",
           extra);
  mailauth_settings *s = NULL;
  char *error = NULL;
  mailauth_status st = mailauth_settings_load_text(text, DIR_, &s, &error);
  check(st == MAILAUTH_OK, "settings %s: %s", extra, error ? error : "?");
  mailauth_string_free(error);
  return s;
}

static uint32_t action_of(mailauth_session *s) {
  uint32_t action = 99;
  check(mailauth_session_resolve(s, zone) == MAILAUTH_OK, "resolve");
  check(mailauth_session_action(s, &action) == MAILAUTH_OK, "action");
  return action;
}

/* Feeds a message as a milter does: header fields one by one (continuation
 * lines joined with LF), the end of the header, the body in small chunks. */
static void feed_as_milter(mailauth_session *s, const char *message) {
  const char *end = strstr(message, "\r\n\r\n");
  if (!end)
    return;
  const char *p = message;
  while (p < end + 2) {
    const char *line_end = strstr(p, "\r\n");
    const char *field_end = line_end;
    while (field_end + 2 < end + 2 && (field_end[2] == ' ' || field_end[2] == '\t'))
      field_end = strstr(field_end + 2, "\r\n");
    const char *colon = memchr(p, ':', (size_t)(line_end - p));
    if (!colon)
      break;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
    const char *v = colon + 1;
    while (*v == ' ')
      v++;
    size_t vlen = (size_t)(field_end - v);
    char *value = malloc(vlen + 1);
    size_t j = 0;
    for (size_t i = 0; i < vlen; i++)
      if (v[i] != '\r')
        value[j++] = v[i];
    value[j] = '\0';
    check(mailauth_session_header(s, name, value) == MAILAUTH_OK, "header %s", name);
    free(value);
    check(action_of(s) == MAILAUTH_ACTION_CONTINUE, "header continues");
    p = field_end + 2;
  }
  check(mailauth_session_end_of_header(s) == MAILAUTH_OK, "end of header");
  check(action_of(s) == MAILAUTH_ACTION_CONTINUE, "end of header continues");
  const char *body = end + 4;
  size_t len = strlen(body);
  for (size_t off = 0; off < len; off += 7) {
    size_t n = len - off < 7 ? len - off : 7;
    check(mailauth_session_body(s, (const uint8_t *)body + off, n) == MAILAUTH_OK, "body");
  }
  check(action_of(s) == MAILAUTH_ACTION_CONTINUE, "body continues");
}

struct run {
  uint32_t mail_from;
  uint32_t end; /* 99: not reached */
  char reply[512];
  char edits[4096]; /* "insert:Name;remove:Name#n;..." */
  char first_insert[4096];
  char log[4096];
  uint32_t mode;
};

static void run(mailauth_settings *set, const char *addr, const char *daemon, const char *auth,
                const char *mail_from, const char *message_file, int as_milter, struct run *r) {
  memset(r, 0, sizeof *r);
  r->end = 99;
  mailauth_session *s = NULL;
  check(mailauth_session_new(set, addr, NULL, daemon, auth, &s) == MAILAUTH_OK, "session new");
  check(mailauth_session_mode(s, &r->mode) == MAILAUTH_OK, "mode");
  check(mailauth_session_helo(s, "mx1.example.org") == MAILAUTH_OK, "helo");
  action_of(s);
  check(mailauth_session_mail_from(s, mail_from) == MAILAUTH_OK, "mail from");
  r->mail_from = action_of(s);
  const char *code, *enhanced, *text;
  if (r->mail_from == MAILAUTH_ACTION_CONTINUE) {
    check(mailauth_session_rcpt(s, "bob@example.com") == MAILAUTH_OK, "rcpt");
    check(action_of(s) == MAILAUTH_ACTION_CONTINUE, "rcpt continues");
    check(mailauth_session_set_queue_id(s, "4QID") == MAILAUTH_OK, "queue id");
    size_t len = 0;
    char *file = read_file(DIR_, message_file, &len);
    check(file != NULL, "read %s", message_file);
    char *message = file ? crlf(file, &len) : NULL;
    free(file);
    if (message) {
      if (as_milter) {
        feed_as_milter(s, message);
      } else {
        check(mailauth_session_message(s, (const uint8_t *)message, len) == MAILAUTH_OK, "msg");
        action_of(s);
      }
      free(message);
    }
    check(mailauth_session_end_of_message(s) == MAILAUTH_OK, "end of message");
    r->end = action_of(s);
    size_t count = 0;
    check(mailauth_session_edit_count(s, &count) == MAILAUTH_OK, "edit count");
    for (size_t i = 0; i < count; i++) {
      uint32_t kind;
      const char *name, *value;
      size_t occurrence;
      check(mailauth_session_edit(s, i, &kind, &name, &value, &occurrence) == MAILAUTH_OK, "edit");
      char item[300];
      if (kind == MAILAUTH_EDIT_REMOVE)
        snprintf(item, sizeof item, "remove:%s#%zu;", name, occurrence);
      else {
        snprintf(item, sizeof item, "insert:%s;", name);
        if (!r->first_insert[0])
          snprintf(r->first_insert, sizeof r->first_insert, "%s: %s", name, value);
        else if (strcmp(name, "Authentication-Results") == 0)
          snprintf(r->first_insert, sizeof r->first_insert, "%s: %s", name, value);
      }
      strncat(r->edits, item, sizeof r->edits - strlen(r->edits) - 1);
    }
    check(mailauth_session_edit(s, count, &(uint32_t){0}, &code, &text, &(size_t){0}) ==
              MAILAUTH_INVALID_ARGUMENT,
          "edit past the end");
  }
  if (mailauth_session_reply(s, &code, &enhanced, &text) == MAILAUTH_OK)
    snprintf(r->reply, sizeof r->reply, "%s %s %s", code, enhanced, text);
  const char *log = NULL;
  if (mailauth_session_log_line(s, &log) == MAILAUTH_OK)
    snprintf(r->log, sizeof r->log, "%s", log);
  mailauth_session_free(s);
}

#define OUTSIDE_OK "192.0.2.25"
#define SPOOFER "192.0.2.99"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: session EXAMPLES-DATA-DIR\n");
    return 2;
  }
  DIR_ = argv[1];
  size_t zlen = 0;
  char *zone_text = read_file(DIR_, "example.zone", &zlen);
  if (!zone_text || mailauth_resolver_new_zone((const uint8_t *)zone_text, zlen, &zone) !=
                        MAILAUTH_OK) {
    fprintf(stderr, "cannot load the example zone\n");
    return 2;
  }
  free(zone_text);
  struct run r;

  /* Outside, SPF pass, DKIM pass, DMARC pass: continue, one AR inserted. */
  mailauth_settings *plain = settings("");
  run(plain, OUTSIDE_OK, NULL, NULL, "alice@example.org", "pass.eml", 1, &r);
  check(r.mode == MAILAUTH_MODE_VERIFY, "outside is checked");
  check(r.mail_from == MAILAUTH_ACTION_CONTINUE && r.end == MAILAUTH_ACTION_CONTINUE, "pass");
  check(strcmp(r.edits, "insert:Authentication-Results;") == 0, "pass edits: %s", r.edits);
  check(strstr(r.first_insert, "spf=pass") && strstr(r.first_insert, "dkim=pass") &&
            strstr(r.first_insert, "dmarc=pass"),
        "pass AR: %s", r.first_insert);
  check(strncmp(r.log, "4QID: client=192.0.2.25 mode=verify", 35) == 0 &&
            strstr(r.log, "action=continue"),
        "pass log: %s", r.log);

  /* The same as raw bytes. */
  run(plain, OUTSIDE_OK, NULL, NULL, "alice@example.org", "pass.eml", 0, &r);
  check(r.end == MAILAUTH_ACTION_CONTINUE && strstr(r.first_insert, "dkim=pass"), "raw: %s",
        r.first_insert);

  /* SPF -all at MAIL FROM: refused by default, not with "false". */
  run(plain, SPOOFER, NULL, NULL, "billing@example.org", "fail.eml", 1, &r);
  check(r.mail_from == MAILAUTH_ACTION_REJECT && r.end == 99, "spf fail refused");
  check(strncmp(r.reply, "550 5.7.23 SPF fail", 19) == 0, "spf reply: %s", r.reply);
  check(strstr(r.log, "spf=fail") && strstr(r.log, "action=\"reject 550 5.7.23"), "spf log: %s",
        r.log);
  mailauth_settings *lenient = settings("[spf]\nmail_from_reject = \"false\"");
  run(lenient, SPOOFER, NULL, NULL, "billing@example.org", "fail.eml", 1, &r);
  check(r.mail_from == MAILAUTH_ACTION_CONTINUE, "spf fail with false: continue");
  /* ... and DMARC (p=reject) has the final word only when asked. */
  check(r.end == MAILAUTH_ACTION_CONTINUE, "dmarc without reject_failures: continue");
  check(strstr(r.first_insert, "dmarc=fail") != NULL, "dmarc fail recorded: %s", r.first_insert);

  /* DMARC p=reject with reject_failures: refused at the end of data. */
  mailauth_settings *strict = settings("[dmarc]\nreject_failures = true");
  run(strict, SPOOFER, NULL, NULL, "billing@example.net", "fail.eml", 1, &r);
  check(r.mail_from == MAILAUTH_ACTION_CONTINUE && r.end == MAILAUTH_ACTION_REJECT,
        "spoof refused at end");
  check(strcmp(r.reply, "550 5.7.26 Rejected by the DMARC policy of example.org") == 0,
        "dmarc reply: %s", r.reply);

  /* Test-only: decided, logged, not refused. */
  mailauth_settings *testing = settings("test_only = true\n[dmarc]\nreject_failures = true");
  run(testing, SPOOFER, NULL, NULL, "billing@example.net", "fail.eml", 1, &r);
  check(r.end == MAILAUTH_ACTION_CONTINUE && r.reply[0] == '\0', "test-only continues");
  check(strstr(r.log, "test-only-would=\"reject 550 5.7.26") != NULL, "test-only log: %s", r.log);

  /* A forged Authentication-Results in our name is removed. */
  run(plain, SPOOFER, NULL, NULL, "x@example.net", "forged.eml", 1, &r);
  check(strncmp(r.edits, "remove:Authentication-Results#1;", 32) == 0, "forged: %s", r.edits);

  /* Signed, not checked: internal network, ORIGINATING, authenticated, local. */
  struct {
    const char *addr, *daemon, *auth, *mode;
  } signers[] = {
      {"198.51.100.7", NULL, NULL, "sign(internal 198.51.100.0/24)"},
      {SPOOFER, "ORIGINATING", NULL, "sign(daemon ORIGINATING)"},
      {SPOOFER, NULL, "alice", "sign(authenticated alice)"},
      {NULL, NULL, NULL, "sign(local)"},
  };
  for (size_t i = 0; i < sizeof signers / sizeof signers[0]; i++) {
    run(plain, signers[i].addr, signers[i].daemon, signers[i].auth, "alice@example.org",
        "pass.eml", 1, &r);
    check(r.mode == MAILAUTH_MODE_SIGN, "%s: mode", signers[i].mode);
    check(strcmp(r.edits, "insert:DKIM-Signature;") == 0, "%s: edits %s", signers[i].mode,
          r.edits);
    check(strstr(r.first_insert, "d=example.org") && strstr(r.first_insert, "s=sel2026"),
          "%s: %s", signers[i].mode, r.first_insert);
    check(strstr(r.log, signers[i].mode) != NULL, "%s: log %s", signers[i].mode, r.log);
  }

  /* The event-loop path: every query of the HELO stage answered NXDOMAIN. */
  mailauth_session *s = NULL;
  mailauth_session_new(plain, OUTSIDE_OK, NULL, NULL, NULL, &s);
  check(mailauth_session_helo(s, "nothing.example") == MAILAUTH_OK, "helo");
  size_t n = 0;
  uint32_t action = 0;
  check(mailauth_session_poll(s, &n) == MAILAUTH_OK && n > 0, "poll gives queries");
  check(mailauth_session_action(s, &action) == MAILAUTH_NOT_DONE, "not done before answers");
  const char *qname = NULL;
  uint16_t qtype = 0;
  check(mailauth_session_query(s, 0, &qname, &qtype) == MAILAUTH_OK &&
            strcmp(qname, "nothing.example") == 0 && qtype == 16,
        "query: %s %u", qname ? qname : "?", qtype);
  check(mailauth_session_query(s, n, &qname, &qtype) == MAILAUTH_INVALID_ARGUMENT, "query range");
  for (int rounds = 0; n > 0 && rounds < 10; rounds++) {
    for (size_t i = 0; i < n; i++)
      check(mailauth_session_supply_status(s, i, MAILAUTH_DNS_NXDOMAIN) == MAILAUTH_OK, "supply");
    check(mailauth_session_poll(s, &n) == MAILAUTH_OK, "poll again");
  }
  check(mailauth_session_action(s, &action) == MAILAUTH_OK && action == MAILAUTH_ACTION_CONTINUE,
        "helo none continues");
  mailauth_session_free(s);

  /* Misuse and settings. */
  check(mailauth_session_new(NULL, OUTSIDE_OK, NULL, NULL, NULL, &s) == MAILAUTH_NULL_PARAMETER,
        "NULL settings");
  check(mailauth_session_new(plain, "not an address", NULL, NULL, NULL, &s) ==
            MAILAUTH_INVALID_ARGUMENT,
        "bad address");
  check(mailauth_session_helo(NULL, "x") == MAILAUTH_NULL_PARAMETER, "NULL session");
  check(mailauth_session_action(NULL, &action) == MAILAUTH_NULL_PARAMETER, "NULL action session");
  mailauth_settings *bad = NULL;
  char *error = NULL;
  check(mailauth_settings_load_text("authserv_id = \"mx\"\n\n[dmarc]\nreject_failure = true\n",
                                    NULL, &bad, &error) == MAILAUTH_INVALID_ARGUMENT &&
            bad == NULL,
        "bad settings refused");
  check(error && strstr(error, "settings:4:") && strstr(error, "reject_failure"),
        "error names the line: %s", error ? error : "?");
  mailauth_string_free(error);
  check(mailauth_settings_load_text("x = 1", NULL, &bad, NULL) == MAILAUTH_INVALID_ARGUMENT,
        "NULL error pointer accepted");
  check(mailauth_settings_load_file("/nonexistent/mailauth.toml", &bad, NULL) == MAILAUTH_IO_ERROR,
        "missing file");
  char *value = NULL;
  check(mailauth_settings_get(plain, "authserv_id", &value) == MAILAUTH_OK &&
            strcmp(value, "mx.example.com") == 0,
        "get authserv_id");
  mailauth_string_free(value);
  value = NULL;
  check(mailauth_settings_get(strict, "dmarc.reject_failures", &value) == MAILAUTH_OK &&
            strcmp(value, "true") == 0,
        "get bool");
  mailauth_string_free(value);
  value = NULL;
  check(mailauth_settings_get(plain, "daemon_names", &value) == MAILAUTH_OK &&
            strcmp(value, "ORIGINATING") == 0,
        "get array");
  mailauth_string_free(value);
  check(mailauth_settings_get(plain, "no.such", &value) == MAILAUTH_ABSENT, "get absent");
  char *toml = NULL;
  check(mailauth_settings_to_toml(plain, &toml) == MAILAUTH_OK && strstr(toml, "[milter]"),
        "to_toml");
  mailauth_string_free(toml);

  /* Settings freed while a session lives: the session keeps what it needs. */
  mailauth_settings *early = settings("");
  mailauth_session_new(early, OUTSIDE_OK, NULL, NULL, NULL, &s);
  mailauth_settings_free(early);
  check(mailauth_session_helo(s, "mx1.example.org") == MAILAUTH_OK, "helo after free");
  check(mailauth_session_mail_from(s, "alice@example.org") == MAILAUTH_OK, "mail after free");
  check(action_of(s) == MAILAUTH_ACTION_CONTINUE, "works after the settings were freed");
  mailauth_session_free(s);

  mailauth_settings_free(plain);
  mailauth_settings_free(lenient);
  mailauth_settings_free(strict);
  mailauth_settings_free(testing);
  mailauth_resolver_free(zone);
  printf("session: %d of %d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
