/* The MTA session from C: settings loaded from TOML text (the relay's
 * signing key written to a temporary folder), an in-memory zone with an
 * outside sender (SPF, DKIM key, DMARC p=reject), -all / ~all / broken SPF
 * domains and p=reject / p=quarantine / p=none domains, and sessions
 * driven through every stage: HELO, MAIL FROM, RCPT, the header field by
 * field, the end of the header, the body in chunks, the end of the
 * message. Each case runs twice: resolved with mailauth_session_resolve,
 * and through the event-loop protocol (poll, query, supply) with answers
 * built by hand from the same records. Asserted: the action of every
 * stage, replies, edits (kinds, names, order, occurrences), the log line,
 * the mode; then misuse (NULL parameters, answers nobody asked for,
 * reading before resolving), bad settings and freeing settings while a
 * session lives. Mirrors src/session/tests.rs.
 *
 * Prints "session: N checks passed" and exits 0, or names each failure and
 * exits 1. Run plainly, under valgrind and with ASan/UBSan. */
#define _POSIX_C_SOURCE 200809L
#include <mailauth.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static int checks, failures;
static const char *where = "";

#define EXPECT(expr, expected)                                                       \
  do {                                                                               \
    mailauth_status got_ = (expr);                                                   \
    checks++;                                                                        \
    if (got_ != (expected)) {                                                        \
      failures++;                                                                    \
      fprintf(stderr, "%s:%d: [%s] %s gave %u, expected %s\n", __FILE__, __LINE__, \
              where, #expr, (unsigned)got_, #expected);                              \
    }                                                                                \
  } while (0)

#define TRUE_THAT(cond)                                                                     \
  do {                                                                                      \
    checks++;                                                                               \
    if (!(cond)) {                                                                          \
      failures++;                                                                           \
      fprintf(stderr, "%s:%d: [%s] not true: %s\n", __FILE__, __LINE__, where, #cond);    \
    }                                                                                       \
  } while (0)

/* `text` holds `part` (text NULL fails). */
#define CONTAINS(text, part) contains_at(__LINE__, #text, (text), (part))
/* `text` equals `expected`. */
#define SAME(text, expected) same_at(__LINE__, #text, (text), (expected))

static void contains_at(int line, const char *what, const char *text, const char *part) {
  checks++;
  if (text == NULL || strstr(text, part) == NULL) {
    failures++;
    fprintf(stderr, "%s:%d: [%s] %s lacks \"%s\": %s\n", __FILE__, line, where, what, part,
            text ? text : "(null)");
  }
}

static void same_at(int line, const char *what, const char *text, const char *expected) {
  checks++;
  if (text == NULL || strcmp(text, expected) != 0) {
    failures++;
    fprintf(stderr, "%s:%d: [%s] %s is \"%s\", expected \"%s\"\n", __FILE__, line, where, what,
            text ? text : "(null)", expected);
  }
}

/* A sentinel that out parameters must keep when a call fails. */
static int sentinel_object;
#define SENTINEL ((void *)&sentinel_object)

/* The Ed25519 key of examples/c/data (ed2026.private) and its record: it
 * signs sender.example's mail (selector sel) and is the relay's key for
 * example.com (selector relay). */
static const char KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIByadfkyAEuzLbMKHsWlh6AUndpwAcXsHkrVpl7GehND\n"
    "-----END PRIVATE KEY-----\n";
static const char KEY_RECORD[] = "v=DKIM1; k=ed25519; p=BuP5MftnfVkiY6Dbai+ZGOShMmKW1B33asOsphXAWNs=";

static const char OUTSIDE[] = "192.0.2.10";

/* The zone, as records: the zone resolver is made from their text, the
 * callback resolver and the event loop answer from them directly. Every
 * name under temp.example fails for now (not with the zone resolver). */
struct record {
  const char *name;
  uint16_t type; /* 1 A, 16 TXT */
  const char *data;
};

static const struct record RECORDS[] = {
    {"sender.example", 16, "v=spf1 ip4:192.0.2.0/24 -all"},
    {"sel._domainkey.sender.example", 16, KEY_RECORD},
    {"_dmarc.sender.example", 16, "v=DMARC1; p=reject"},
    {"soft.example", 16, "v=spf1 ~all"},
    {"hard.example", 16, "v=spf1 -all"},
    {"broken.example", 16, "v=spf1 foo:bar -all"},
    {"rej.example", 16, "v=spf1 -all"},
    {"_dmarc.rej.example", 16, "v=DMARC1; p=reject"},
    {"_dmarc.quar.example", 16, "v=DMARC1; p=quarantine"},
    {"_dmarc.none.example", 16, "v=DMARC1; p=none"},
    {"_dmarc.pct.example", 16, "v=DMARC1; p=reject; pct=50"},
    {"mx.example", 1, "192.0.2.10"},
};
#define RECORD_COUNT (sizeof RECORDS / sizeof RECORDS[0])

static char dir[64];
static mailauth_resolver *zone;     /* from zone text */
static mailauth_resolver *callback; /* from the records, temp.example failing */
static int callback_calls;

static bool ends_with(const char *name, const char *suffix) {
  size_t n = strlen(name), s = strlen(suffix);
  return n >= s && strcasecmp(name + n - s, suffix) == 0 && (n == s || name[n - s - 1] == '.');
}

/* The status answering `name`/`type` (a mailauth_dns_status), or -1 when
 * records answer it. */
static int lookup_status(const char *name, uint16_t type) {
  if (ends_with(name, "temp.example")) return MAILAUTH_DNS_TEMPFAIL;
  bool exists = false;
  for (size_t i = 0; i < RECORD_COUNT; i++) {
    if (ends_with(RECORDS[i].name, name)) exists = true; /* the name or one below it */
    if (strcasecmp(RECORDS[i].name, name) == 0 && RECORDS[i].type == type) return -1;
  }
  return exists ? MAILAUTH_DNS_NODATA : MAILAUTH_DNS_NXDOMAIN;
}

static mailauth_status add_records(const char *name, uint16_t type, mailauth_answer *answer) {
  mailauth_status status = MAILAUTH_OK;
  for (size_t i = 0; i < RECORD_COUNT && status == MAILAUTH_OK; i++) {
    const struct record *r = &RECORDS[i];
    if (strcasecmp(r->name, name) != 0 || r->type != type) continue;
    if (type == 16) {
      status = mailauth_answer_add_txt(answer, (const uint8_t *)r->data, strlen(r->data));
    } else {
      unsigned a, b, c, d;
      if (sscanf(r->data, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return MAILAUTH_INVALID_ARGUMENT;
      uint8_t address[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
      status = mailauth_answer_add_a(answer, address);
    }
  }
  return status;
}

static mailauth_status lookup(void *userdata, const char *name, uint16_t type,
                              mailauth_answer *answer) {
  int *calls = userdata;
  (*calls)++;
  int status = lookup_status(name, type);
  if (status >= 0) return mailauth_answer_set_status(answer, (uint32_t)status);
  return add_records(name, type, answer);
}

static char *zone_text(void) {
  size_t size = 64;
  for (size_t i = 0; i < RECORD_COUNT; i++)
    size += strlen(RECORDS[i].name) + strlen(RECORDS[i].data) + 32;
  char *text = malloc(size);
  if (text == NULL) abort();
  size_t at = 0;
  for (size_t i = 0; i < RECORD_COUNT; i++) {
    const struct record *r = &RECORDS[i];
    at += (size_t)snprintf(text + at, size - at,
                           r->type == 16 ? "%s. 300 IN TXT \"%s\"\n" : "%s. 300 IN A %s\n",
                           r->name, r->data);
  }
  return text;
}

static char *path_in_dir(const char *file) {
  size_t size = strlen(dir) + strlen(file) + 2;
  char *path = malloc(size);
  if (path == NULL) abort();
  snprintf(path, size, "%s/%s", dir, file);
  return path;
}

static void write_file(const char *file, const char *text) {
  char *path = path_in_dir(file);
  FILE *f = fopen(path, "w");
  TRUE_THAT(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
  free(path);
}

static void remove_file(const char *file) {
  char *path = path_in_dir(file);
  unlink(path);
  free(path);
}

/* Settings as the Rust tests make them, with `extra` in the middle. */
static mailauth_settings *settings(const char *extra) {
  static const char HEAD[] =
      "authserv_id = \"mx.example.net\"\n"
      "daemon_names = [\"ORIGINATING\"]\n";
  static const char TAIL[] =
      "\n[[signing.keys]]\nname = \"com\"\ndomain = \"example.com\"\nselector = \"relay\"\n"
      "key_file = \"example.com.key\"\n"
      "[[signing.rules]]\npattern = \"*@example.com\"\nkey = \"com\"\n";
  size_t size = sizeof HEAD + strlen(extra) + sizeof TAIL;
  char *text = malloc(size);
  if (text == NULL) abort();
  snprintf(text, size, "%s%s%s", HEAD, extra, TAIL);
  mailauth_settings *out = NULL;
  char *error = NULL;
  EXPECT(mailauth_settings_load_text(text, dir, &out, &error), MAILAUTH_OK);
  if (error != NULL) fprintf(stderr, "settings error: %s\n", error);
  mailauth_string_free(error);
  free(text);
  return out;
}

/* A message from `from` after `extra_header`, signed for `signer` (a
 * domain, selector sel) when not NULL. */
static char *message(const char *from, const char *signer, const char *extra_header) {
  size_t size = strlen(extra_header) + strlen(from) + 128;
  char *text = malloc(size);
  if (text == NULL) abort();
  snprintf(text, size, "%sFrom: <%s>\r\nTo: bob@example.net\r\nSubject: hello\r\n\r\nHi Bob.\r\n",
           extra_header, from);
  if (signer == NULL) return text;
  mailauth_signing_table *table = NULL;
  mailauth_dkim_signing *signing = NULL;
  char *field = NULL;
  EXPECT(mailauth_signing_table_new(&table), MAILAUTH_OK);
  EXPECT(mailauth_signing_table_add(table, "*", signer, "sel", (const uint8_t *)KEY, strlen(KEY)),
         MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_new(table, (uint64_t)time(NULL), &signing), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)text, strlen(text)), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_OK);
  mailauth_dkim_signing_free(signing);
  mailauth_signing_table_free(table);
  if (field == NULL) return text;
  size_t total = strlen(field) + strlen(text) + 1;
  char *signed_text = malloc(total);
  if (signed_text == NULL) abort();
  snprintf(signed_text, total, "%s%s", field, text);
  mailauth_string_free(field);
  free(text);
  return signed_text;
}

/* The client of a session. */
struct client {
  const char *address, *name, *daemon, *auth;
};
static const struct client OUTSIDE_CLIENT = {OUTSIDE, NULL, NULL, NULL};

enum path { RESOLVE, EVENT_LOOP };

struct edit {
  uint32_t kind;
  char *name;
  char *value; /* NULL for a removal */
  size_t occurrence;
};

/* What a transaction gave, copied out of the session. */
struct run {
  uint32_t helo, mail_from, end; /* 99: the stage was not reached */
  char helo_reply[256], mail_from_reply[256], end_reply[256];
  char *quarantine;
  size_t edit_count;
  struct edit edits[16];
  char *log, *detail;
  uint32_t mode;
};

static char *copy(const char *text) { return text == NULL ? NULL : strdup(text); }

static void run_free(struct run *r) {
  for (size_t i = 0; i < r->edit_count && i < 16; i++) {
    free(r->edits[i].name);
    free(r->edits[i].value);
  }
  free(r->quarantine);
  free(r->log);
  free(r->detail);
}

/* The event loop: poll, look every query up in the records, answer each
 * with a status or records, poll again. */
static void drive_loop(mailauth_session *s) {
  for (int round = 0; round < 64; round++) {
    size_t count = 99;
    EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
    if (count == 0) return;
    uint32_t action = 99;
    EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
    TRUE_THAT(action == 99);
    for (size_t i = 0; i < count; i++) {
      const char *name = NULL;
      uint16_t type = 0;
      EXPECT(mailauth_session_query(s, i, &name, &type), MAILAUTH_OK);
      if (name == NULL) return;
      int status = lookup_status(name, type);
      if (status >= 0) {
        EXPECT(mailauth_session_supply_status(s, i, (uint32_t)status), MAILAUTH_OK);
      } else {
        mailauth_answer *answer = NULL;
        EXPECT(mailauth_answer_new(&answer), MAILAUTH_OK);
        EXPECT(add_records(name, type, answer), MAILAUTH_OK);
        EXPECT(mailauth_session_supply_answer(s, i, answer), MAILAUTH_OK);
        mailauth_answer_free(answer);
      }
    }
    /* Answered already; and no such query. */
    EXPECT(mailauth_session_supply_status(s, 0, MAILAUTH_DNS_NXDOMAIN),
           MAILAUTH_UNEXPECTED_ANSWER);
    EXPECT(mailauth_session_supply_status(s, count, MAILAUTH_DNS_NXDOMAIN),
           MAILAUTH_UNEXPECTED_ANSWER);
  }
  TRUE_THAT(!"the session asks queries without end");
}

/* Finishes the current stage by `path` and gives its action. */
static uint32_t settle(mailauth_session *s, enum path path, const mailauth_resolver *resolver) {
  uint32_t action = 99;
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
  if (path == RESOLVE)
    EXPECT(mailauth_session_resolve(s, resolver), MAILAUTH_OK);
  else
    drive_loop(s);
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_OK);
  return action;
}

/* The reply of the stage as "550 5.7.23 text", "" for none. */
static void reply_of(const mailauth_session *s, uint32_t action, char *buf, size_t len) {
  const char *code = NULL, *enhanced = NULL, *text = NULL;
  mailauth_status status = mailauth_session_reply(s, &code, &enhanced, &text);
  bool refused = action == MAILAUTH_ACTION_REJECT || action == MAILAUTH_ACTION_TEMPFAIL;
  TRUE_THAT(status == (refused ? MAILAUTH_OK : MAILAUTH_ABSENT));
  buf[0] = '\0';
  if (status == MAILAUTH_OK) snprintf(buf, len, "%s %s %s", code, enhanced, text);
}

/* Feeds a raw message field by field as a milter gets it: continuation
 * lines joined with LF, the value after the colon and its spaces. */
static void feed_header(mailauth_session *s, enum path path, const mailauth_resolver *resolver,
                        const char *header, size_t len) {
  char *fields = malloc(len + 1);
  if (fields == NULL) abort();
  /* Unfold into one field per line, continuation CRLFs becoming LF. */
  size_t at = 0;
  for (size_t i = 0; i < len; i++) {
    if (header[i] == '\r' && i + 1 < len && header[i + 1] == '\n') {
      bool continued = i + 2 < len && (header[i + 2] == ' ' || header[i + 2] == '\t');
      fields[at++] = continued ? '\n' : '\0';
      i++;
    } else {
      fields[at++] = header[i];
    }
  }
  fields[at++] = '\0';
  for (size_t start = 0, next; start < at; start = next) {
    char *field = fields + start;
    next = start + strlen(field) + 1;
    char *colon = strchr(field, ':');
    TRUE_THAT(colon != NULL);
    if (colon == NULL) break;
    *colon = '\0';
    const char *value = colon + 1;
    while (*value == ' ') value++;
    EXPECT(mailauth_session_header(s, field, value), MAILAUTH_OK);
    TRUE_THAT(settle(s, path, resolver) == MAILAUTH_ACTION_CONTINUE);
  }
  free(fields);
}

static void run(struct run *r, const mailauth_settings *st, const struct client *c,
                const char *helo, const char *mail_from, const char *msg, enum path path,
                const mailauth_resolver *resolver) {
  mailauth_session *s = NULL;
  memset(r, 0, sizeof *r);
  r->helo = r->mail_from = r->end = 99;
  EXPECT(mailauth_session_new(st, c->address, c->name, c->daemon, c->auth, &s), MAILAUTH_OK);
  if (s == NULL) return;
  EXPECT(mailauth_session_mode(s, &r->mode), MAILAUTH_OK);
  const char *line = SENTINEL;
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_ABSENT);
  TRUE_THAT(line == SENTINEL);

  EXPECT(mailauth_session_helo(s, helo), MAILAUTH_OK);
  r->helo = settle(s, path, resolver);
  reply_of(s, r->helo, r->helo_reply, sizeof r->helo_reply);

  EXPECT(mailauth_session_mail_from(s, mail_from), MAILAUTH_OK);
  r->mail_from = settle(s, path, resolver);
  reply_of(s, r->mail_from, r->mail_from_reply, sizeof r->mail_from_reply);
  bool ended = r->mail_from == MAILAUTH_ACTION_REJECT || r->mail_from == MAILAUTH_ACTION_TEMPFAIL ||
               r->mail_from == MAILAUTH_ACTION_DISCARD;
  if (!ended) {
    EXPECT(mailauth_session_rcpt(s, "bob@example.net"), MAILAUTH_OK);
    TRUE_THAT(settle(s, path, resolver) == MAILAUTH_ACTION_CONTINUE);
    size_t count = 99;
    EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_OK);
    TRUE_THAT(count == 0);
    EXPECT(mailauth_session_set_queue_id(s, "4ABC"), MAILAUTH_OK);
    const char *split = strstr(msg, "\r\n\r\n");
    TRUE_THAT(split != NULL);
    if (split == NULL) split = msg + strlen(msg);
    feed_header(s, path, resolver, msg, (size_t)(split - msg));
    EXPECT(mailauth_session_end_of_header(s), MAILAUTH_OK);
    TRUE_THAT(settle(s, path, resolver) == MAILAUTH_ACTION_CONTINUE);
    const char *body = split[0] ? split + 4 : split;
    size_t body_len = strlen(body);
    for (size_t at = 0; at < body_len; at += 3) {
      size_t n = body_len - at < 3 ? body_len - at : 3;
      EXPECT(mailauth_session_body(s, (const uint8_t *)body + at, n), MAILAUTH_OK);
      TRUE_THAT(settle(s, path, resolver) == MAILAUTH_ACTION_CONTINUE);
    }
    EXPECT(mailauth_session_end_of_message(s), MAILAUTH_OK);
    r->end = settle(s, path, resolver);
    reply_of(s, r->end, r->end_reply, sizeof r->end_reply);
    const char *reason = SENTINEL;
    mailauth_status status = mailauth_session_quarantine_reason(s, &reason);
    TRUE_THAT(status == (r->end == MAILAUTH_ACTION_QUARANTINE ? MAILAUTH_OK : MAILAUTH_ABSENT));
    if (status == MAILAUTH_OK) r->quarantine = copy(reason);
  }
  EXPECT(mailauth_session_edit_count(s, &r->edit_count), MAILAUTH_OK);
  TRUE_THAT(r->edit_count <= 16);
  for (size_t i = 0; i < r->edit_count && i < 16; i++) {
    const char *name = NULL, *value = SENTINEL;
    EXPECT(mailauth_session_edit(s, i, &r->edits[i].kind, &name, &value, &r->edits[i].occurrence),
           MAILAUTH_OK);
    r->edits[i].name = copy(name);
    r->edits[i].value = value == SENTINEL ? NULL : copy(value);
    if (r->edits[i].kind == MAILAUTH_EDIT_REMOVE)
      TRUE_THAT(value == NULL && r->edits[i].occurrence >= 1);
    else
      TRUE_THAT(r->edits[i].kind == MAILAUTH_EDIT_INSERT && value != NULL &&
                r->edits[i].occurrence == 0);
  }
  uint32_t kind = 99;
  const char *name = SENTINEL, *value = SENTINEL;
  size_t occurrence = 99;
  EXPECT(mailauth_session_edit(s, r->edit_count, &kind, &name, &value, &occurrence),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(kind == 99 && name == SENTINEL && value == SENTINEL && occurrence == 99);
  line = NULL;
  if (mailauth_session_log_line(s, &line) == MAILAUTH_OK) r->log = copy(line);
  const char *detail = NULL;
  if (mailauth_session_log_detail(s, &detail) == MAILAUTH_OK) r->detail = copy(detail);
  TRUE_THAT(r->log != NULL && r->detail != NULL);
  mailauth_session_free(s);
}

/* The values of the insertions named `name`. */
static size_t inserted(const struct run *r, const char *name, const char **values, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->edit_count && i < 16; i++) {
    const struct edit *e = &r->edits[i];
    if (e->kind == MAILAUTH_EDIT_INSERT && strcasecmp(e->name, name) == 0) {
      if (n < max) values[n] = e->value;
      n++;
    }
  }
  return n;
}

static const char *path_name(enum path path) { return path == RESOLVE ? "resolve" : "event loop"; }

static void outside_pass(enum path path) {
  char label[128];
  snprintf(label, sizeof label, "outside pass, %s", path_name(path));
  where = label;
  /* log.why: the detail record gives each check's reasons. */
  mailauth_settings *st = settings("[log]\nwhy = true\n");
  char *msg = message("alice@sender.example", "sender.example", "");
  struct run r;
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", msg, path, zone);
  TRUE_THAT(r.mode == MAILAUTH_MODE_VERIFY);
  TRUE_THAT(r.helo == MAILAUTH_ACTION_CONTINUE && r.helo_reply[0] == '\0');
  TRUE_THAT(r.mail_from == MAILAUTH_ACTION_CONTINUE);
  TRUE_THAT(r.end == MAILAUTH_ACTION_CONTINUE && r.end_reply[0] == '\0');
  TRUE_THAT(r.edit_count == 1);
  const char *ar[4] = {NULL};
  TRUE_THAT(inserted(&r, "Authentication-Results", ar, 4) == 1);
  SAME(r.edits[0].name, "Authentication-Results");
  TRUE_THAT(ar[0] != NULL && strncmp(ar[0], "mx.example.net;", 15) == 0);
  CONTAINS(ar[0], "\r\n\t");
  CONTAINS(ar[0], "spf=pass");
  CONTAINS(ar[0], "dkim=pass");
  CONTAINS(ar[0], "header.d=sender.example");
  CONTAINS(ar[0], "dmarc=pass");
  TRUE_THAT(r.log != NULL && strncmp(r.log, "4ABC: client=192.0.2.10 mode=verify", 35) == 0);
  CONTAINS(r.log, " helo=mx.sender.example from=<alice@sender.example> rcpts=1 spf_helo=none ");
  CONTAINS(r.log, "spf=pass dkim=pass(d=sender.example,s=sel) dmarc=pass(");
  CONTAINS(r.log, "action=continue");
  TRUE_THAT(r.detail != NULL && strncmp(r.detail, "4ABC: why: ", 11) == 0);
  CONTAINS(r.detail, "spf sender.example:");
  run_free(&r);
  free(msg);
  mailauth_settings_free(st);
}

/* SPF at MAIL FROM, per policyd-spf setting. */
static void spf_decisions(enum path path) {
  static const struct {
    const char *extra, *domain;
    uint32_t action;
    const char *reply; /* prefix; "" for none */
  } cases[] = {
      {"", "hard.example", MAILAUTH_ACTION_REJECT, "550 5.7.23 SPF fail: "},
      {"[spf]\nmail_from_reject = \"false\"", "hard.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"", "soft.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"[spf]\nmail_from_reject = \"softfail\"", "soft.example", MAILAUTH_ACTION_REJECT,
       "550 5.7.23 SPF softfail: "},
      {"[spf]\nmail_from_reject = \"not_pass\"", "soft.example", MAILAUTH_ACTION_REJECT,
       "550 5.7.23 SPF softfail: "},
      {"", "broken.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"[spf]\npermerror_reject = true", "broken.example", MAILAUTH_ACTION_REJECT,
       "550 5.7.24 SPF permanent error for broken.example: "},
      {"", "temp.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"[spf]\ntemperror_defer = true", "temp.example", MAILAUTH_ACTION_TEMPFAIL,
       "451 4.7.24 SPF temporary error for temp.example, try again later"},
      {"[spf]\nmail_from_reject = \"not_pass\"", "temp.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"", "sender.example", MAILAUTH_ACTION_CONTINUE, ""},
      {"test_only = true", "hard.example", MAILAUTH_ACTION_CONTINUE, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char label[256];
    snprintf(label, sizeof label, "spf %s %s, %s", cases[i].extra, cases[i].domain,
             path_name(path));
    where = label;
    char from[64];
    snprintf(from, sizeof from, "alice@%s", cases[i].domain);
    mailauth_settings *st = settings(cases[i].extra);
    char *msg = message(from, NULL, "");
    bool temp = strcmp(cases[i].domain, "temp.example") == 0;
    struct run r;
    run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", from, msg, path, temp ? callback : zone);
    TRUE_THAT(r.helo == MAILAUTH_ACTION_CONTINUE);
    TRUE_THAT(r.mail_from == cases[i].action);
    TRUE_THAT(strncmp(r.mail_from_reply, cases[i].reply, strlen(cases[i].reply)) == 0 &&
              (cases[i].reply[0] != '\0') == (r.mail_from_reply[0] != '\0'));
    if (strncmp(r.mail_from_reply, cases[i].reply, strlen(cases[i].reply)) != 0)
      fprintf(stderr, "  reply: %s\n", r.mail_from_reply);
    if (cases[i].action == MAILAUTH_ACTION_CONTINUE) {
      TRUE_THAT(r.end == MAILAUTH_ACTION_CONTINUE);
      const char *ar[2] = {NULL};
      TRUE_THAT(inserted(&r, "Authentication-Results", ar, 2) == 1);
      CONTAINS(r.log, "action=continue");
    } else {
      /* Refused at MAIL FROM: the transaction ends, logged then. */
      TRUE_THAT(r.end == 99 && r.edit_count == 0);
      CONTAINS(r.log, " spf=");
      TRUE_THAT(r.log != NULL && strncmp(r.log, "NOQUEUE: ", 9) == 0);
      char action[300];
      snprintf(action, sizeof action, "action=\"%s %s",
               cases[i].action == MAILAUTH_ACTION_REJECT ? "reject" : "tempfail", cases[i].reply);
      CONTAINS(r.log, action);
    }
    if (strcmp(cases[i].extra, "test_only = true") == 0)
      CONTAINS(r.log, "test-only-would=\"reject 550 5.7.23 SPF fail");
    run_free(&r);
    free(msg);
    mailauth_settings_free(st);
  }
}

static void helo_decisions(enum path path) {
  char label[128];
  snprintf(label, sizeof label, "helo, %s", path_name(path));
  where = label;
  mailauth_settings *st = settings("");
  mailauth_session *s = NULL;
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_OK);
  EXPECT(mailauth_session_helo(s, "hard.example"), MAILAUTH_OK);
  TRUE_THAT(settle(s, path, zone) == MAILAUTH_ACTION_REJECT);
  const char *code = NULL, *enhanced = NULL, *text = NULL, *line = NULL;
  EXPECT(mailauth_session_reply(s, &code, &enhanced, &text), MAILAUTH_OK);
  SAME(code, "550");
  SAME(enhanced, "5.7.23");
  SAME(text, "SPF fail for HELO hard.example");
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_OK);
  CONTAINS(line, "NOQUEUE: client=192.0.2.10 mode=verify helo=hard.example rcpts=0 spf_helo=fail");
  CONTAINS(line, "action=\"reject 550 5.7.23 SPF fail for HELO hard.example\"");
  CONTAINS(line, "helo=\"spf=fail for hard.example: ");
  /* Polling or resolving the finished stage again keeps the strings. */
  size_t count = 99;
  EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_session_resolve(s, zone), MAILAUTH_OK);
  SAME(text, "SPF fail for HELO hard.example");
  SAME(code, "550");
  CONTAINS(line, "spf_helo=fail");
  /* RSET: the refusal's strings go, the connection stays. */
  EXPECT(mailauth_session_abort(s), MAILAUTH_OK);
  uint32_t action = 99;
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
  TRUE_THAT(settle(s, path, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_reply(s, &code, &enhanced, &text), MAILAUTH_ABSENT);
  line = SENTINEL;
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_ABSENT);
  TRUE_THAT(line == SENTINEL);
  mailauth_session_free(s);
  mailauth_settings_free(st);

  st = settings("[spf]\nhelo_reject = \"false\"");
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_OK);
  EXPECT(mailauth_session_helo(s, "hard.example"), MAILAUTH_OK);
  TRUE_THAT(settle(s, path, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_reply(s, &code, &enhanced, &text), MAILAUTH_ABSENT);
  mailauth_session_free(s);
  mailauth_settings_free(st);
}

/* DMARC at the end of the message: a spoofed From under each policy. */
static void dmarc_decisions(enum path path) {
  static const struct {
    const char *extra, *domain;
    uint32_t action;
    const char *header; /* an extra insertion */
  } cases[] = {
      {"", "rej.example", MAILAUTH_ACTION_CONTINUE, NULL},
      {"[dmarc]\nreject_failures = true", "rej.example", MAILAUTH_ACTION_REJECT, NULL},
      {"[dmarc]\nreject_failures = true", "quar.example", MAILAUTH_ACTION_QUARANTINE, NULL},
      {"[dmarc]\nreject_failures = true\nquarantine = \"header\"", "quar.example",
       MAILAUTH_ACTION_CONTINUE, "X-Mailauth-Quarantine"},
      {"[dmarc]\nreject_failures = true\nquarantine = \"accept\"", "quar.example",
       MAILAUTH_ACTION_CONTINUE, NULL},
      {"[dmarc]\nreject_failures = true", "none.example", MAILAUTH_ACTION_CONTINUE, NULL},
      {"test_only = true\n[dmarc]\nreject_failures = true", "rej.example",
       MAILAUTH_ACTION_CONTINUE, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char label[256];
    snprintf(label, sizeof label, "dmarc %s %s, %s", cases[i].extra, cases[i].domain,
             path_name(path));
    where = label;
    char from[64];
    snprintf(from, sizeof from, "mallory@%s", cases[i].domain);
    mailauth_settings *st = settings(cases[i].extra);
    char *msg = message(from, NULL, "");
    struct run r;
    run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "mallory@sender.example", msg, path, zone);
    TRUE_THAT(r.mail_from == MAILAUTH_ACTION_CONTINUE);
    TRUE_THAT(r.end == cases[i].action);
    if (cases[i].action == MAILAUTH_ACTION_REJECT)
      SAME(r.end_reply, "550 5.7.26 Rejected by the DMARC policy of rej.example");
    else
      SAME(r.end_reply, "");
    if (cases[i].action == MAILAUTH_ACTION_QUARANTINE)
      SAME(r.quarantine, "DMARC policy of quar.example");
    else
      TRUE_THAT(r.quarantine == NULL);
    const char *ar[2] = {NULL};
    TRUE_THAT(inserted(&r, "Authentication-Results", ar, 2) == 1);
    CONTAINS(ar[0], "dmarc=fail");
    /* The Authentication-Results insertion comes last: it ends on top. */
    TRUE_THAT(r.edit_count >= 1 &&
              strcmp(r.edits[r.edit_count - 1].name, "Authentication-Results") == 0);
    if (cases[i].header != NULL) {
      const char *values[2] = {NULL};
      TRUE_THAT(inserted(&r, cases[i].header, values, 2) == 1);
      SAME(values[0], "DMARC policy of quar.example");
      TRUE_THAT(r.edit_count == 2 && strcmp(r.edits[0].name, cases[i].header) == 0);
      CONTAINS(r.log, "marked with X-Mailauth-Quarantine");
    } else {
      TRUE_THAT(r.edit_count == 1);
    }
    char part[64];
    snprintf(part, sizeof part, "dmarc=fail(from=%s", cases[i].domain);
    CONTAINS(r.log, part);
    CONTAINS(r.log, "4ABC: client=192.0.2.10 mode=verify");
    switch (cases[i].action) {
      case MAILAUTH_ACTION_REJECT:
        CONTAINS(r.log, "action=\"reject 550 5.7.26 Rejected by the DMARC policy of rej.example\"");
        break;
      case MAILAUTH_ACTION_QUARANTINE:
        CONTAINS(r.log, "action=\"quarantine DMARC policy of quar.example\"");
        break;
      default:
        CONTAINS(r.log, "action=continue");
    }
    if (strncmp(cases[i].extra, "test_only", 9) == 0)
      CONTAINS(r.log, "action=continue test-only-would=\"reject 550 5.7.26 Rejected by the "
                      "DMARC policy of rej.example\"");
    run_free(&r);
    free(msg);
    mailauth_settings_free(st);
  }
}

/* DMARC pct= sampling (RFC 7489 mode): the draw fixed per session. */
static void dmarc_sampling(void) {
  where = "dmarc pct";
  mailauth_settings *st = settings("[dmarc]\nmode = \"rfc7489\"\nreject_failures = true");
  char *msg = message("mallory@pct.example", NULL, "");
  for (int draw = 0; draw < 2; draw++) {
    mailauth_session *s = NULL;
    EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_OK);
    if (s == NULL) break;
    EXPECT(mailauth_session_set_dmarc_sample(s, draw == 0 ? 10 : 60), MAILAUTH_OK);
    EXPECT(mailauth_session_helo(s, "mx.sender.example"), MAILAUTH_OK);
    TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
    EXPECT(mailauth_session_mail_from(s, "mallory@sender.example"), MAILAUTH_OK);
    TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
    EXPECT(mailauth_session_message(s, (const uint8_t *)msg, strlen(msg)), MAILAUTH_OK);
    EXPECT(mailauth_session_end_of_message(s), MAILAUTH_OK);
    uint32_t action = settle(s, RESOLVE, zone);
    /* Drawn below pct=50 the policy applies; above, it does not. */
    if (draw == 0)
      TRUE_THAT(action == MAILAUTH_ACTION_REJECT);
    else
      TRUE_THAT(action != MAILAUTH_ACTION_REJECT);
    const char *line = NULL;
    EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_OK);
    CONTAINS(line, "dmarc=fail(from=pct.example,p=reject,");
    mailauth_session_free(s);
  }
  free(msg);
  mailauth_settings_free(st);
}

/* Who is signed rather than checked. */
static void signing_modes(enum path path) {
  static const struct {
    struct client client;
    const char *logged;
  } cases[] = {
      {{"127.0.0.1", "localhost", NULL, NULL}, "mode=\"sign(internal 127.0.0.1/32)\""},
      {{OUTSIDE, NULL, NULL, "alice"}, "mode=\"sign(authenticated alice)\""},
      {{OUTSIDE, NULL, "ORIGINATING", NULL}, "mode=\"sign(daemon ORIGINATING)\""},
      {{NULL, NULL, NULL, NULL}, "mode=sign(local)"},
      {{"", "", "", ""}, "mode=sign(local)"},
  };
  mailauth_settings *st = settings("");
  char *msg = message("alice@example.com", NULL, "");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char label[256];
    snprintf(label, sizeof label, "%s, %s", cases[i].logged, path_name(path));
    where = label;
    struct run r;
    run(&r, st, &cases[i].client, "mx.sender.example", "alice@example.com", msg, path, zone);
    TRUE_THAT(r.mode == MAILAUTH_MODE_SIGN);
    TRUE_THAT(r.helo == MAILAUTH_ACTION_CONTINUE && r.mail_from == MAILAUTH_ACTION_CONTINUE);
    TRUE_THAT(r.end == MAILAUTH_ACTION_CONTINUE);
    const char *sig[2] = {NULL};
    TRUE_THAT(inserted(&r, "DKIM-Signature", sig, 2) == 1 && r.edit_count == 1);
    CONTAINS(sig[0], "d=example.com");
    CONTAINS(sig[0], "s=relay");
    CONTAINS(sig[0], "a=ed25519-sha256");
    CONTAINS(r.log, cases[i].logged);
    CONTAINS(r.log, "signed=d=example.com,s=relay");
    TRUE_THAT(strstr(r.log ? r.log : "", "spf=") == NULL);
    run_free(&r);
  }
  free(msg);

  /* A From the signing table does not cover: not signed, logged. */
  where = "no signing rule";
  const struct client originating = {OUTSIDE, NULL, "originating", NULL};
  msg = message("x@other.example", NULL, "");
  struct run r;
  run(&r, st, &originating, "mx.sender.example", "x@other.example", msg, path, zone);
  TRUE_THAT(r.mode == MAILAUTH_MODE_SIGN && r.end == MAILAUTH_ACTION_CONTINUE);
  TRUE_THAT(r.edit_count == 0);
  CONTAINS(r.log, "mode=\"sign(daemon originating)\"");
  CONTAINS(r.log, "no signing rule for x@other.example");
  run_free(&r);
  free(msg);
  mailauth_settings_free(st);
}

/* The relay's signature verifies with its key published. */
static void signed_mail_verifies(void) {
  where = "signed mail verifies";
  mailauth_settings *st = settings("");
  char *msg = message("alice@example.com", NULL, "");
  const struct client client = {OUTSIDE, NULL, NULL, "alice"};
  struct run r;
  run(&r, st, &client, "mx.sender.example", "alice@example.com", msg, RESOLVE, zone);
  const char *sig[1] = {NULL};
  TRUE_THAT(inserted(&r, "DKIM-Signature", sig, 1) == 1);
  if (sig[0] != NULL) {
    size_t size = strlen(sig[0]) + strlen(msg) + 32;
    char *signed_text = malloc(size);
    if (signed_text == NULL) abort();
    snprintf(signed_text, size, "DKIM-Signature: %s\r\n%s", sig[0], msg);
    static const char RECORD_ZONE_HEAD[] = "relay._domainkey.example.com. 300 IN TXT \"";
    char record_zone[256];
    snprintf(record_zone, sizeof record_zone, "%s%s\"\n", RECORD_ZONE_HEAD, KEY_RECORD);
    mailauth_resolver *keys = NULL;
    mailauth_dkim_verifier *verifier = NULL;
    mailauth_check *check = NULL;
    mailauth_dkim_outcome *outcome = NULL;
    mailauth_dkim_result result = 99;
    char *domain = NULL;
    EXPECT(mailauth_resolver_new_zone((const uint8_t *)record_zone, strlen(record_zone), &keys),
           MAILAUTH_OK);
    EXPECT(mailauth_dkim_verifier_new((uint64_t)time(NULL), &verifier), MAILAUTH_OK);
    EXPECT(mailauth_dkim_verifier_feed(verifier, (const uint8_t *)signed_text, strlen(signed_text)),
           MAILAUTH_OK);
    EXPECT(mailauth_dkim_verifier_finish(verifier, &check), MAILAUTH_OK);
    EXPECT(mailauth_check_resolve(check, keys), MAILAUTH_OK);
    EXPECT(mailauth_check_dkim_outcome(check, &outcome), MAILAUTH_OK);
    EXPECT(mailauth_dkim_outcome_result(outcome, 0, &result), MAILAUTH_OK);
    TRUE_THAT(result == MAILAUTH_DKIM_PASS);
    EXPECT(mailauth_dkim_outcome_domain(outcome, 0, &domain), MAILAUTH_OK);
    SAME(domain, "example.com");
    mailauth_string_free(domain);
    mailauth_dkim_outcome_free(outcome);
    mailauth_check_free(check);
    mailauth_dkim_verifier_free(verifier);
    mailauth_resolver_free(keys);
    free(signed_text);
  }
  run_free(&r);
  free(msg);
  mailauth_settings_free(st);
}

static void forged_results_removed(enum path path) {
  char label[128];
  snprintf(label, sizeof label, "forged results, %s", path_name(path));
  where = label;
  static const char FORGED[] =
      "Authentication-Results: other.example; spf=pass\r\n"
      "Authentication-Results: mx.example.net; dkim=pass\r\n"
      "Authentication-Results: mx.example.net; dmarc=pass\r\n";
  mailauth_settings *st = settings("");
  char *msg = message("alice@sender.example", "sender.example", FORGED);
  struct run r;
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", msg, path, zone);
  TRUE_THAT(r.end == MAILAUTH_ACTION_CONTINUE);
  TRUE_THAT(r.edit_count == 3);
  if (r.edit_count == 3) {
    TRUE_THAT(r.edits[0].kind == MAILAUTH_EDIT_REMOVE && r.edits[0].occurrence == 3);
    SAME(r.edits[0].name, "Authentication-Results");
    TRUE_THAT(r.edits[1].kind == MAILAUTH_EDIT_REMOVE && r.edits[1].occurrence == 2);
    SAME(r.edits[1].name, "Authentication-Results");
    TRUE_THAT(r.edits[2].kind == MAILAUTH_EDIT_INSERT);
    SAME(r.edits[2].name, "Authentication-Results");
    CONTAINS(r.edits[2].value, "dkim=pass");
  }
  run_free(&r);
  free(msg);
  mailauth_settings_free(st);
}

static void dkim_actions(enum path path) {
  char label[128];
  mailauth_settings *st = settings("");
  /* A key lookup that fails for now: OpenDKIM's On-DNSError default. */
  snprintf(label, sizeof label, "dkim dns error, %s", path_name(path));
  where = label;
  char *signed_msg = message("alice@temp.example", "temp.example", "");
  struct run r;
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", signed_msg, path,
      callback);
  TRUE_THAT(r.end == MAILAUTH_ACTION_TEMPFAIL);
  TRUE_THAT(strncmp(r.end_reply, "451 4.7.20 DKIM: dkim=temperror d=temp.example", 46) == 0);
  CONTAINS(r.end_reply, ", try again later");
  CONTAINS(r.log, "dkim=temperror(d=temp.example,s=sel)");
  CONTAINS(r.log, "action=\"tempfail 451 4.7.20 DKIM: ");
  run_free(&r);
  mailauth_settings_free(st);

  snprintf(label, sizeof label, "dkim dns error accepted, %s", path_name(path));
  st = settings("[verify]\non_dns_error = \"accept\"");
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", signed_msg, path,
      callback);
  TRUE_THAT(r.end == MAILAUTH_ACTION_CONTINUE);
  SAME(r.end_reply, "");
  run_free(&r);
  mailauth_settings_free(st);
  free(signed_msg);

  /* No signature, refused when asked. */
  snprintf(label, sizeof label, "dkim no signature, %s", path_name(path));
  st = settings("[verify]\non_no_signature = \"reject\"");
  char *plain = message("alice@sender.example", NULL, "");
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", plain, path, zone);
  TRUE_THAT(r.end == MAILAUTH_ACTION_REJECT);
  SAME(r.end_reply, "550 5.7.20 DKIM: no signature");
  CONTAINS(r.log, "dkim=none");
  /* A refused message still gets its edits for the record. */
  CONTAINS(r.log, "dkim=\"no signature\"");
  run_free(&r);
  mailauth_settings_free(st);
  free(plain);

  /* A broken signature, refused when asked. */
  snprintf(label, sizeof label, "dkim bad signature, %s", path_name(path));
  st = settings("[verify]\non_bad_signature = \"reject\"");
  char *bad = message("alice@sender.example", "sender.example", "");
  bad[strlen(bad) - 3] = 'X';
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", bad, path, zone);
  TRUE_THAT(r.end == MAILAUTH_ACTION_REJECT);
  TRUE_THAT(strncmp(r.end_reply, "550 5.7.20 DKIM: dkim=fail d=sender.example", 43) == 0);
  CONTAINS(r.log, "dkim=fail(d=sender.example,s=sel)");
  run_free(&r);
  mailauth_settings_free(st);
  free(bad);
}

static void received_spf(enum path path) {
  char label[128];
  snprintf(label, sizeof label, "received-spf, %s", path_name(path));
  where = label;
  mailauth_settings *st = settings("[spf]\nreceived_spf = true");
  char *msg = message("alice@sender.example", "sender.example", "");
  struct run r;
  run(&r, st, &OUTSIDE_CLIENT, "mx.sender.example", "alice@sender.example", msg, path, zone);
  const char *spf[2] = {NULL};
  TRUE_THAT(inserted(&r, "Received-SPF", spf, 2) == 1);
  TRUE_THAT(spf[0] != NULL && strncmp(spf[0], "pass ", 5) == 0);
  TRUE_THAT(r.edit_count == 2);
  if (r.edit_count == 2) {
    SAME(r.edits[0].name, "Received-SPF");
    SAME(r.edits[1].name, "Authentication-Results");
  }
  run_free(&r);
  free(msg);
  mailauth_settings_free(st);
}

/* The raw-message path (mailauth_session_message) in odd chunks, the
 * queue ID set after the end, set_authenticated as a stage, and the
 * packet form of a query. */
static void other_paths(void) {
  where = "raw message";
  mailauth_settings *st = settings("");
  char *msg = message("alice@sender.example", "sender.example", "");
  mailauth_session *s = NULL;
  uint32_t action = 99, mode = 99;
  size_t count = 0;
  EXPECT(mailauth_session_new(st, "[192.0.2.10]", "mx.sender.example", NULL, NULL, &s),
         MAILAUTH_OK);
  EXPECT(mailauth_session_helo(s, "mx.sender.example"), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_mail_from(s, "<alice@sender.example>"), MAILAUTH_OK);
  /* The event loop: the SPF query, also as a wire packet. */
  EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 1);
  const char *name = NULL;
  uint16_t type = 0;
  EXPECT(mailauth_session_query(s, 0, &name, &type), MAILAUTH_OK);
  SAME(name, "sender.example");
  TRUE_THAT(type == 16);
  EXPECT(mailauth_session_query(s, 1, &name, &type), MAILAUTH_INVALID_ARGUMENT);
  uint8_t packet[512];
  size_t written = 0;
  EXPECT(mailauth_session_query_packet(s, 0, 0x4242, packet, 4, &written),
         MAILAUTH_INSUFFICIENT_SIZE);
  EXPECT(mailauth_session_query_packet(s, 0, 0x4242, packet, sizeof packet, &written), MAILAUTH_OK);
  TRUE_THAT(written > 12 && packet[0] == 0x42 && packet[1] == 0x42);
  EXPECT(mailauth_session_supply_packet(s, 0, packet, written), MAILAUTH_DNS_MALFORMED);
  EXPECT(mailauth_session_supply_status(s, 0, 77), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
  /* Not stages: the open query stays open, its name valid. */
  EXPECT(mailauth_session_set_queue_id(s, "Q0"), MAILAUTH_OK);
  EXPECT(mailauth_session_set_dmarc_sample(s, 0), MAILAUTH_OK);
  SAME(name, "sender.example");
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
  mailauth_answer *answer = NULL;
  EXPECT(mailauth_answer_new(&answer), MAILAUTH_OK);
  EXPECT(add_records("sender.example", 16, answer), MAILAUTH_OK);
  EXPECT(mailauth_session_supply_answer(s, 0, answer), MAILAUTH_OK);
  mailauth_answer_free(answer);
  drive_loop(s);
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_OK);
  TRUE_THAT(action == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_rcpt(s, "<bob@example.net>"), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  size_t len = strlen(msg);
  for (size_t at = 0; at < len; at += 7) {
    EXPECT(mailauth_session_message(s, (const uint8_t *)msg + at, len - at < 7 ? len - at : 7),
           MAILAUTH_OK);
    TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  }
  EXPECT(mailauth_session_end_of_message(s), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  const char *line = NULL;
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_OK);
  TRUE_THAT(line != NULL && strncmp(line, "Q0: client=mx.sender.example[192.0.2.10] ", 41) == 0);
  CONTAINS(line, "dkim=pass(d=sender.example,s=sel) dmarc=pass(");
  /* The queue ID known only after the end: the record takes it, the
   * decision stays. */
  EXPECT(mailauth_session_set_queue_id(s, "7XYZ"), MAILAUTH_OK);
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_OK);
  TRUE_THAT(action == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_OK);
  TRUE_THAT(line != NULL && strncmp(line, "7XYZ: client=", 13) == 0);
  EXPECT(mailauth_session_log_detail(s, &line), MAILAUTH_OK);
  TRUE_THAT(line != NULL && strncmp(line, "7XYZ: why: ", 11) == 0);
  EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 1);
  EXPECT(mailauth_session_set_dmarc_sample(s, 100), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_set_dmarc_sample(s, 99), MAILAUTH_OK);
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_OK);
  /* A second transaction on the connection: the first one's record goes. */
  EXPECT(mailauth_session_mail_from(s, ""), MAILAUTH_OK);
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_ABSENT);
  EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_NOT_DONE);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  mailauth_session_free(s);

  /* Authenticated after connecting: signed from then on. */
  where = "set_authenticated";
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_OK);
  EXPECT(mailauth_session_mode(s, &mode), MAILAUTH_OK);
  TRUE_THAT(mode == MAILAUTH_MODE_VERIFY);
  EXPECT(mailauth_session_helo(s, "mx.sender.example"), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_set_authenticated(s, "alice"), MAILAUTH_OK);
  TRUE_THAT(settle(s, EVENT_LOOP, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_mode(s, &mode), MAILAUTH_OK);
  TRUE_THAT(mode == MAILAUTH_MODE_SIGN);
  EXPECT(mailauth_session_mail_from(s, "alice@example.com"), MAILAUTH_OK);
  EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0); /* signing asks nothing */
  free(msg);
  msg = message("alice@example.com", NULL, "");
  EXPECT(mailauth_session_message(s, (const uint8_t *)msg, strlen(msg)), MAILAUTH_OK);
  EXPECT(mailauth_session_end_of_message(s), MAILAUTH_OK);
  TRUE_THAT(settle(s, EVENT_LOOP, zone) == MAILAUTH_ACTION_CONTINUE);
  uint32_t kind = 99;
  const char *value = NULL;
  size_t occurrence = 99;
  EXPECT(mailauth_session_edit(s, 0, &kind, &name, &value, &occurrence), MAILAUTH_OK);
  TRUE_THAT(kind == MAILAUTH_EDIT_INSERT && occurrence == 0);
  SAME(name, "DKIM-Signature");
  CONTAINS(value, "d=example.com");
  EXPECT(mailauth_session_log_line(s, &line), MAILAUTH_OK);
  CONTAINS(line, "mode=\"sign(authenticated alice)\"");
  /* Not authenticated any more: checked again. */
  EXPECT(mailauth_session_set_authenticated(s, ""), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_mode(s, &mode), MAILAUTH_OK);
  TRUE_THAT(mode == MAILAUTH_MODE_VERIFY);
  mailauth_session_free(s);
  free(msg);
  mailauth_settings_free(st);
}

static void bad_settings(void) {
  static const struct {
    const char *text, *expected;
  } cases[] = {
      {"authserv_id = \"mx\"\nbogus = 1\n", "settings:2:"},
      {"[spf]\nmax_void_lookups = \"two\"\n", "settings:2:"},
      {"[verify]\n\nmin_key_bits = 1024\non_bad_signature = \"maybe\"\n", "settings:4:"},
      {"internal_hosts = [\"10.0.0.0/33\"]\n", "settings:1: internal_hosts"},
      {"[signing]\nkeys = [{ name = \"k\", domain = \"example.com\", selector = \"s\", key_file = "
       "\"/nonexistent/k.pem\" }]\n",
       "settings:2: signing.keys"},
      {"[[signing.rules]]\npattern = \"*\"\nkey = \"missing\"\n",
       "signing.rules: key name \"missing\""},
      {"[signing]\nkey_table = \"/nonexistent/KeyTable\"\nsigning_table = "
       "\"refile:/nonexistent/SigningTable\"\n",
       "settings:3: signing.signing_table"},
      {"[replies]\ndmarc_reject = \"250 2.0.0 fine\"\n", "settings:2: replies.dmarc_reject"},
      {"[dmarc]\nmode = \"rfc1234\"\n", "settings:2: dmarc.mode"},
      {"authserv_id = \n", "settings:1:"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    where = cases[i].text;
    mailauth_settings *out = SENTINEL;
    char *error = NULL;
    EXPECT(mailauth_settings_load_text(cases[i].text, dir, &out, &error),
           MAILAUTH_INVALID_ARGUMENT);
    TRUE_THAT(out == SENTINEL);
    CONTAINS(error, cases[i].expected);
    mailauth_string_free(error);
    /* No error wanted: the status alone. */
    EXPECT(mailauth_settings_load_text(cases[i].text, dir, &out, NULL), MAILAUTH_INVALID_ARGUMENT);
    TRUE_THAT(out == SENTINEL);
  }
  where = "settings files";
  mailauth_settings *out = SENTINEL;
  char *error = NULL;
  EXPECT(mailauth_settings_load_file("/nonexistent/mailauth.toml", &out, &error),
         MAILAUTH_IO_ERROR);
  TRUE_THAT(out == SENTINEL);
  CONTAINS(error, "/nonexistent/mailauth.toml");
  mailauth_string_free(error);
  error = NULL;
  /* A file: relative key paths start at its folder. */
  write_file("mailauth.toml",
             "authserv_id = \"file.example.net\"\n"
             "[[signing.keys]]\nname = \"com\"\ndomain = \"example.com\"\nselector = \"relay\"\n"
             "key_file = \"example.com.key\"\n");
  char *path = path_in_dir("mailauth.toml");
  EXPECT(mailauth_settings_load_file(path, &out, &error), MAILAUTH_OK);
  TRUE_THAT(error == NULL);
  char *value = NULL;
  EXPECT(mailauth_settings_get(out, "authserv_id", &value), MAILAUTH_OK);
  SAME(value, "file.example.net");
  mailauth_string_free(value);
  mailauth_settings_free(out);
  write_file("mailauth.toml", "[verify]\nmin_key_bits = \"many\"\n");
  EXPECT(mailauth_settings_load_file(path, &out, &error), MAILAUTH_INVALID_ARGUMENT);
  CONTAINS(error, "mailauth.toml:2:");
  mailauth_string_free(error);
  free(path);
  remove_file("mailauth.toml");
  /* Bad UTF-8 is an argument error, with no message. */
  error = SENTINEL;
  EXPECT(mailauth_settings_load_text("authserv_id = \"\xff\"\n", dir, &out, &error),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(error == SENTINEL);
}

static void settings_values(void) {
  where = "settings values";
  mailauth_settings *st = settings("[dns]\nnameservers = [\"127.0.0.1:5353\"]");
  static const struct {
    const char *key, *value;
  } cases[] = {
      {"dns.nameservers", "127.0.0.1:5353"},
      {"milter.syslog", "true"},
      {"verify.min_key_bits", "1024"},
      {"authserv_id", "mx.example.net"},
      {"daemon_names", "ORIGINATING"},
      {"internal_hosts", "127.0.0.1,::1"},
      {"spf.mail_from_reject", "fail"},
      {"dmarc.reject_failures", "false"},
      {"test_only", "false"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *value = NULL;
    EXPECT(mailauth_settings_get(st, cases[i].key, &value), MAILAUTH_OK);
    SAME(value, cases[i].value);
    mailauth_string_free(value);
  }
  char *value = SENTINEL;
  EXPECT(mailauth_settings_get(st, "nope.nothing", &value), MAILAUTH_ABSENT);
  EXPECT(mailauth_settings_get(st, "dns.nothing", &value), MAILAUTH_ABSENT);
  TRUE_THAT(value == SENTINEL);
  /* The effective settings as TOML load back to the same. */
  char *toml = NULL, *again_toml = NULL;
  EXPECT(mailauth_settings_to_toml(st, &toml), MAILAUTH_OK);
  CONTAINS(toml, "authserv_id = \"mx.example.net\"");
  mailauth_settings *again = NULL;
  EXPECT(mailauth_settings_load_text(toml, dir, &again, NULL), MAILAUTH_OK);
  EXPECT(mailauth_settings_to_toml(again, &again_toml), MAILAUTH_OK);
  SAME(again_toml, toml);
  mailauth_string_free(toml);
  mailauth_string_free(again_toml);
  mailauth_settings_free(again);
  /* The resolver [dns] describes (made, not used). */
  mailauth_resolver *resolver = NULL;
  EXPECT(mailauth_settings_new_resolver(st, &resolver), MAILAUTH_OK);
  TRUE_THAT(resolver != NULL);
  mailauth_resolver_free(resolver);
  mailauth_settings_free(st);
}

/* Settings freed while sessions made from them live: a reload. */
static void settings_freed_early(void) {
  where = "settings freed early";
  mailauth_settings *st = settings("[dmarc]\nreject_failures = true");
  mailauth_session *checked = NULL, *signing = NULL;
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &checked), MAILAUTH_OK);
  EXPECT(mailauth_session_new(st, NULL, NULL, NULL, NULL, &signing), MAILAUTH_OK);
  mailauth_settings_free(st);
  char *spoofed = message("mallory@rej.example", NULL, "");
  EXPECT(mailauth_session_helo(checked, "mx.sender.example"), MAILAUTH_OK);
  TRUE_THAT(settle(checked, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_mail_from(checked, "mallory@sender.example"), MAILAUTH_OK);
  TRUE_THAT(settle(checked, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_message(checked, (const uint8_t *)spoofed, strlen(spoofed)), MAILAUTH_OK);
  EXPECT(mailauth_session_end_of_message(checked), MAILAUTH_OK);
  TRUE_THAT(settle(checked, RESOLVE, zone) == MAILAUTH_ACTION_REJECT);
  const char *code = NULL, *enhanced = NULL, *text = NULL;
  EXPECT(mailauth_session_reply(checked, &code, &enhanced, &text), MAILAUTH_OK);
  SAME(text, "Rejected by the DMARC policy of rej.example");
  mailauth_session_free(checked);

  char *msg = message("alice@example.com", NULL, "");
  EXPECT(mailauth_session_mail_from(signing, "alice@example.com"), MAILAUTH_OK);
  TRUE_THAT(settle(signing, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_message(signing, (const uint8_t *)msg, strlen(msg)), MAILAUTH_OK);
  EXPECT(mailauth_session_end_of_message(signing), MAILAUTH_OK);
  TRUE_THAT(settle(signing, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  const char *line = NULL;
  EXPECT(mailauth_session_log_line(signing, &line), MAILAUTH_OK);
  CONTAINS(line, "mode=sign(local)");
  CONTAINS(line, "signed=d=example.com,s=relay");
  mailauth_session_free(signing);
  free(msg);
  free(spoofed);
}

static void null_and_bad_arguments(void) {
  where = "NULL parameters";
  mailauth_settings *st = settings("");
  mailauth_settings *out = SENTINEL;
  mailauth_session *s = SENTINEL;
  char *value = SENTINEL;
  EXPECT(mailauth_settings_load_text(NULL, dir, &out, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_load_text("", dir, NULL, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_load_file(NULL, &out, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_load_file("/nonexistent", NULL, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(out == SENTINEL);
  /* Empty text: every default (relative paths from the working folder). */
  EXPECT(mailauth_settings_load_text("", NULL, &out, NULL), MAILAUTH_OK);
  mailauth_settings_free(out);
  EXPECT(mailauth_settings_get(NULL, "authserv_id", &value), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_get(st, NULL, &value), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_get(st, "authserv_id", NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_to_toml(NULL, &value), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_to_toml(st, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(value == SENTINEL);
  mailauth_resolver *resolver = SENTINEL;
  EXPECT(mailauth_settings_new_resolver(NULL, &resolver), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_settings_new_resolver(st, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(resolver == SENTINEL);

  EXPECT(mailauth_session_new(NULL, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_new(st, "not-an-ip", NULL, NULL, NULL, &s), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_new(st, "192.0.2.300", NULL, NULL, NULL, &s), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_new(st, OUTSIDE, "h\xff", NULL, NULL, &s), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(s == SENTINEL);
  uint32_t mode = 99;
  EXPECT(mailauth_session_new(st, "[IPv6:2001:db8::1]", NULL, NULL, NULL, &s), MAILAUTH_OK);
  EXPECT(mailauth_session_mode(s, &mode), MAILAUTH_OK);
  TRUE_THAT(mode == MAILAUTH_MODE_VERIFY);
  mailauth_session_free(s);
  EXPECT(mailauth_session_new(st, "::1", NULL, NULL, NULL, &s), MAILAUTH_OK);
  EXPECT(mailauth_session_mode(s, &mode), MAILAUTH_OK);
  TRUE_THAT(mode == MAILAUTH_MODE_SIGN);
  mailauth_session_free(s);

  where = "session misuse";
  EXPECT(mailauth_session_new(st, OUTSIDE, NULL, NULL, NULL, &s), MAILAUTH_OK);
  uint32_t action = 99, kind = 99;
  size_t count = 99, occurrence = 99;
  const char *a = SENTINEL, *b = SENTINEL, *c = SENTINEL;
  uint16_t type = 0;
  uint8_t buf[64];
  /* Nothing happened yet: no decision to read, no queries to answer. */
  EXPECT(mailauth_session_action(s, &action), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_session_reply(s, &a, &b, &c), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_session_quarantine_reason(s, &a), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_session_edit(s, 0, &kind, &a, &b, &occurrence), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_session_log_line(s, &a), MAILAUTH_ABSENT);
  EXPECT(mailauth_session_log_detail(s, &a), MAILAUTH_ABSENT);
  EXPECT(mailauth_session_supply_status(s, 0, MAILAUTH_DNS_NXDOMAIN), MAILAUTH_UNEXPECTED_ANSWER);
  EXPECT(mailauth_session_query(s, 0, &a, &type), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(action == 99 && count == 99 && a == SENTINEL && b == SENTINEL && c == SENTINEL);

  EXPECT(mailauth_session_helo(NULL, "h"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_helo(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_helo(s, "h\xff"), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_mail_from(NULL, "a@b.example"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_mail_from(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_set_authenticated(NULL, "u"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_set_authenticated(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_rcpt(NULL, "b@example.net"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_rcpt(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_header(NULL, "Subject", "x"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_header(s, NULL, "x"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_header(s, "Subject", NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_end_of_header(NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_body(NULL, buf, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_body(s, NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_body(s, buf, SIZE_MAX), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_session_message(NULL, buf, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_message(s, NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_end_of_message(NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_abort(NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_set_queue_id(NULL, "Q"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_set_queue_id(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_set_dmarc_sample(NULL, 0), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_resolve(NULL, zone), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_resolve(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_poll(NULL, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_poll(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query(NULL, 0, &a, &type), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query(s, 0, NULL, &type), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query(s, 0, &a, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query_packet(NULL, 0, 1, buf, sizeof buf, &count),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query_packet(s, 0, 1, NULL, sizeof buf, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_query_packet(s, 0, 1, buf, sizeof buf, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_supply_packet(NULL, 0, buf, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_supply_packet(s, 0, NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_supply_answer(NULL, 0, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_supply_answer(s, 0, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_supply_status(NULL, 0, MAILAUTH_DNS_NXDOMAIN), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_action(NULL, &action), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_action(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_reply(NULL, &a, &b, &c), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_reply(s, NULL, &b, &c), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_reply(s, &a, NULL, &c), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_reply(s, &a, &b, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_quarantine_reason(NULL, &a), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_quarantine_reason(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit_count(NULL, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit_count(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit(NULL, 0, &kind, &a, &b, &occurrence), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit(s, 0, NULL, &a, &b, &occurrence), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit(s, 0, &kind, NULL, &b, &occurrence), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit(s, 0, &kind, &a, NULL, &occurrence), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_edit(s, 0, &kind, &a, &b, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_log_line(NULL, &a), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_log_line(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_log_detail(NULL, &a), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_log_detail(s, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_mode(NULL, &mode), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_session_mode(s, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(action == 99 && count == 99 && kind == 99 && occurrence == 99 && a == SENTINEL &&
            b == SENTINEL && c == SENTINEL);
  /* A zero-length chunk may be NULL. */
  EXPECT(mailauth_session_body(s, NULL, 0), MAILAUTH_OK);
  EXPECT(mailauth_session_message(s, NULL, 0), MAILAUTH_OK);

  /* After a stage is resolved: replies absent for a continue. */
  EXPECT(mailauth_session_helo(s, "mx.sender.example"), MAILAUTH_OK);
  TRUE_THAT(settle(s, RESOLVE, zone) == MAILAUTH_ACTION_CONTINUE);
  EXPECT(mailauth_session_reply(s, &a, &b, &c), MAILAUTH_ABSENT);
  EXPECT(mailauth_session_quarantine_reason(s, &a), MAILAUTH_ABSENT);
  EXPECT(mailauth_session_edit_count(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_session_edit(s, 0, &kind, &a, &b, &occurrence), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(a == SENTINEL && b == SENTINEL);
  /* Resolving a finished stage again is harmless; polling too. */
  EXPECT(mailauth_session_resolve(s, zone), MAILAUTH_OK);
  EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_session_supply_status(s, 0, MAILAUTH_DNS_NXDOMAIN), MAILAUTH_UNEXPECTED_ANSWER);
  /* A session freed with queries open. */
  EXPECT(mailauth_session_mail_from(s, "alice@sender.example"), MAILAUTH_OK);
  EXPECT(mailauth_session_poll(s, &count), MAILAUTH_OK);
  TRUE_THAT(count == 1);
  mailauth_session_free(s);
  mailauth_session_free(NULL);
  mailauth_settings_free(NULL);
  mailauth_settings_free(st);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/mailauth-session-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  write_file("example.com.key", KEY);
  char *text = zone_text();
  EXPECT(mailauth_resolver_new_zone((const uint8_t *)text, strlen(text), &zone), MAILAUTH_OK);
  free(text);
  mailauth_resolver_callbacks callbacks = {&callback_calls, lookup};
  EXPECT(mailauth_resolver_new_callbacks(&callbacks, &callback), MAILAUTH_OK);
  if (zone == NULL || callback == NULL) return 1;

  for (int path = RESOLVE; path <= EVENT_LOOP; path++) {
    outside_pass((enum path)path);
    spf_decisions((enum path)path);
    helo_decisions((enum path)path);
    dmarc_decisions((enum path)path);
    signing_modes((enum path)path);
    forged_results_removed((enum path)path);
    dkim_actions((enum path)path);
    received_spf((enum path)path);
  }
  where = "callback resolver";
  TRUE_THAT(callback_calls > 0);
  signed_mail_verifies();
  dmarc_sampling();
  other_paths();
  bad_settings();
  settings_values();
  settings_freed_early();
  null_and_bad_arguments();

  mailauth_resolver_free(zone);
  mailauth_resolver_free(callback);
  remove_file("example.com.key");
  rmdir(dir);
  if (failures > 0) {
    fprintf(stderr, "session: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("session: %d checks passed\n", checks);
  return 0;
}
