/* store: the DMARC report store from C. Sessions record their verdicts in
 * an SQLite store; the counters say what was written and lost.
 *
 *   store DIR
 *
 * Writes DIR/reports.sqlite (the Rust side reads it back). Prints a line
 * and exits 0 when every check passed. */
#include <mailauth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks = 0, failures = 0;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    checks++;                                                                                      \
    if (!(cond)) {                                                                                 \
      failures++;                                                                                  \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

static const char ZONE[] = "$ORIGIN sender.example.\n"
                           "@ 300 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
                           "_dmarc 300 IN TXT \"v=DMARC1; p=none; rua=mailto:d@sender.example\"\n";

static const char MESSAGE[] = "From: Alice <alice@sender.example>\r\n"
                              "Subject: store\r\n"
                              "\r\n"
                              "Hello.\r\n";

/* One message from `address` through every stage; the session, ended. */
static mailauth_session *message(const mailauth_settings *settings, const mailauth_resolver *zone,
                                 const char *address, const char *mail_from) {
  mailauth_session *s = NULL;
  CHECK(mailauth_session_new(settings, address, NULL, NULL, NULL, &s) == MAILAUTH_OK,
        "session_new");
  if (!s)
    return NULL;
  CHECK(mailauth_session_helo(s, "mx.sender.example") == MAILAUTH_OK &&
            mailauth_session_resolve(s, zone) == MAILAUTH_OK,
        "helo");
  CHECK(mailauth_session_mail_from(s, mail_from) == MAILAUTH_OK &&
            mailauth_session_resolve(s, zone) == MAILAUTH_OK,
        "mail from");
  CHECK(mailauth_session_rcpt(s, "bob@example.net") == MAILAUTH_OK &&
            mailauth_session_resolve(s, zone) == MAILAUTH_OK,
        "rcpt");
  CHECK(mailauth_session_message(s, (const uint8_t *)MESSAGE, strlen(MESSAGE)) == MAILAUTH_OK,
        "message");
  CHECK(mailauth_session_end_of_message(s) == MAILAUTH_OK &&
            mailauth_session_resolve(s, zone) == MAILAUTH_OK,
        "end of message");
  return s;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: store DIR\n");
    return 2;
  }
  char text[8192];
  snprintf(text, sizeof text,
           "authserv_id = \"mx.example.net\"\n"
           "internal_hosts = [\"10.0.0.0/8\"]\n"
           "[report]\nrecord = true\npath = \"%s/reports.sqlite\"\nflush_interval_ms = 10\n",
           argv[1]);
  mailauth_settings *settings = NULL;
  char *error = NULL;
  if (mailauth_settings_load_text(text, NULL, &settings, &error) != MAILAUTH_OK) {
    fprintf(stderr, "settings: %s\n", error ? error : "?");
    mailauth_string_free(error);
    return 1;
  }
  mailauth_resolver *zone = NULL;
  if (mailauth_resolver_new_zone((const uint8_t *)ZONE, strlen(ZONE), &zone) != MAILAUTH_OK) {
    fprintf(stderr, "zone\n");
    return 1;
  }

  /* Misuse. */
  mailauth_store *store = NULL;
  CHECK(mailauth_store_open(NULL, &store, NULL) == MAILAUTH_NULL_PARAMETER, "open NULL settings");
  CHECK(mailauth_store_open(settings, NULL, NULL) == MAILAUTH_NULL_PARAMETER, "open NULL out");
  CHECK(mailauth_store_record(NULL, NULL) == MAILAUTH_NULL_PARAMETER, "record NULL");
  uint64_t count = 99;
  CHECK(mailauth_store_lost(NULL, &count) == MAILAUTH_NULL_PARAMETER && count == 99, "lost NULL");
  mailauth_store_free(NULL);

  CHECK(mailauth_store_open(settings, &store, &error) == MAILAUTH_OK, "open: %s",
        error ? error : "?");
  mailauth_string_free(error);
  if (!store)
    return 1;
  CHECK(mailauth_store_record(store, NULL) == MAILAUTH_NULL_PARAMETER, "record NULL session");
  CHECK(mailauth_store_lost(store, NULL) == MAILAUTH_NULL_PARAMETER, "lost NULL out");

  /* Three checked messages: two pass (192.0.2.10), one fails SPF and so
   * DMARC (203.0.113.5, refused by default at MAIL FROM: nothing to
   * record), one from an internal host (signed, not checked: nothing). */
  for (int i = 0; i < 2; i++) {
    mailauth_session *s = message(settings, zone, "192.0.2.10", "alice@sender.example");
    CHECK(mailauth_store_record(store, s) == MAILAUTH_OK, "record pass");
    mailauth_session_free(s);
  }
  mailauth_session *s = message(settings, zone, "203.0.113.5", "alice@sender.example");
  CHECK(mailauth_store_record(store, s) == MAILAUTH_OK, "record refused");
  mailauth_session_free(s);
  s = message(settings, zone, "10.1.2.3", "alice@sender.example");
  CHECK(mailauth_store_record(store, s) == MAILAUTH_OK, "record signed");
  mailauth_session_free(s);

  CHECK(mailauth_store_flush(store, 30000) == MAILAUTH_OK, "flush");
  CHECK(mailauth_store_written(store, &count) == MAILAUTH_OK && count == 2, "written %llu",
        (unsigned long long)count);
  CHECK(mailauth_store_lost(store, &count) == MAILAUTH_OK && count == 0, "lost %llu",
        (unsigned long long)count);
  mailauth_store_free(store);
  mailauth_resolver_free(zone);
  mailauth_settings_free(settings);
  printf("store: %d of %d checks passed\n", checks - failures, checks);
  return failures == 0 ? 0 : 1;
}
