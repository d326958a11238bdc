/* BIMI from C: the inbound pipeline with BIMI on, over an in-memory zone
 * where example.org passes DMARC (aligned SPF, p=reject) and publishes a
 * BIMI record with an Indicator and an Evidence Document, and example.net
 * passes DMARC at p=quarantine and declines to publish. Asserted: the
 * bimi=pass entry of the Authentication-Results field, every accessor of
 * the outcome and its record, the BIMI-Location field to insert, the
 * forged BIMI-Location and BIMI-Indicator fields listed for removal (also
 * when BIMI is skipped because DMARC fails), nothing BIMI with BIMI off,
 * the BIMI limits and the [bimi] settings, the record parser, and misuse (NULL handles, indexes
 * out of range, settings after the first feed). Mirrors the BIMI test of
 * src/inbound.rs.
 *
 * Prints "bimi: N checks passed" and exits 0, or names each failure and
 * exits 1. Run plainly, under valgrind and with ASan/UBSan. */
#include <mailauth.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define TRUE_THAT(cond)                                                                  \
  do {                                                                                   \
    checks++;                                                                            \
    if (!(cond)) {                                                                       \
      failures++;                                                                        \
      fprintf(stderr, "%s:%d: [%s] not true: %s\n", __FILE__, __LINE__, where, #cond); \
    }                                                                                    \
  } while (0)

#define CONTAINS(text, part) contains_at(__LINE__, #text, (text), (part))
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

static const char ZONE[] =
    "$ORIGIN example.org.\n"
    "@ IN TXT \"v=spf1 ip4:192.0.2.25 -all\"\n"
    "_dmarc IN TXT \"v=DMARC1; p=reject\"\n"
    "default._bimi IN TXT \"v=BIMI1; l=https://images.example.org/logo.svg; "
    "a=https://images.example.org/vmc.pem; avp=personal\"\n"
    "$ORIGIN example.net.\n"
    "@ IN TXT \"v=spf1 ip4:192.0.2.25 -all\"\n"
    "_dmarc IN TXT \"v=DMARC1; p=quarantine\"\n"
    "default._bimi IN TXT \"v=BIMI1; l=; a=\"\n";

#define NOW 1795000000u

/* A message from `author` with a forged BIMI-Location (first field) and
 * BIMI-Indicator (fourth field). */
static char *message(const char *author) {
  static char buf[512];
  snprintf(buf, sizeof buf,
           "BIMI-Location: v=BIMI1; l=https://evil.example/x.svg\r\n"
           "From: Alice <alice@%s>\r\n"
           "To: bob@example.com\r\n"
           "bimi-indicator: PHN2Zz4=\r\n"
           "Subject: hello\r\n"
           "\r\n"
           "Hi.\r\n",
           author);
  return buf;
}

/* Runs the pipeline for a message from `author` sent by `ip`; `bimi`
 * turns BIMI on. Returns the verdict (NULL on failure). */
static mailauth_inbound_outcome *run(const mailauth_resolver *zone, const char *ip,
                                     const char *author, bool bimi) {
  char mail_from[64];
  snprintf(mail_from, sizeof mail_from, "alice@%s", author);
  mailauth_inbound *inbound = NULL;
  EXPECT(mailauth_inbound_new(ip, "mx.sender.example", mail_from, "mx.example.com", NOW, &inbound),
         MAILAUTH_OK);
  if (inbound == NULL) return NULL;
  EXPECT(mailauth_inbound_set_check_helo(inbound, false), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_bimi(inbound, bimi), MAILAUTH_OK);
  const char *text = message(author);
  EXPECT(mailauth_inbound_feed(inbound, (const uint8_t *)text, strlen(text)), MAILAUTH_OK);
  /* Too late for settings now. */
  EXPECT(mailauth_inbound_set_bimi(inbound, true), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_set_bimi_max_record_bytes(inbound, 100), MAILAUTH_TOO_LATE);
  mailauth_check *check = NULL;
  EXPECT(mailauth_inbound_finish(inbound, &check), MAILAUTH_OK);
  mailauth_inbound_free(inbound);
  mailauth_inbound_outcome *verdict = NULL;
  EXPECT(mailauth_check_resolve(check, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
  mailauth_check_free(check);
  return verdict;
}

/* The forged BIMI fields of the message, listed for removal. */
static void expect_forged_fields(const mailauth_inbound_outcome *verdict) {
  size_t count = 0, occurrence = 0, position = 0, len = 0;
  const uint8_t *data = NULL;
  char *name = NULL;
  EXPECT(mailauth_inbound_outcome_bimi_remove_count(verdict, &count), MAILAUTH_OK);
  TRUE_THAT(count == 2);
  EXPECT(mailauth_inbound_outcome_bimi_remove_occurrence(verdict, 0, &occurrence), MAILAUTH_OK);
  TRUE_THAT(occurrence == 1);
  EXPECT(mailauth_inbound_outcome_bimi_remove_position(verdict, 0, &position), MAILAUTH_OK);
  TRUE_THAT(position == 0);
  EXPECT(mailauth_inbound_outcome_bimi_remove_name(verdict, 0, &name), MAILAUTH_OK);
  SAME(name, "BIMI-Location");
  mailauth_string_free(name);
  static const char forged[] = "BIMI-Location: v=BIMI1; l=https://evil.example/x.svg";
  EXPECT(mailauth_inbound_outcome_bimi_remove_field(verdict, 0, &data, &len), MAILAUTH_OK);
  TRUE_THAT(len == strlen(forged));
  TRUE_THAT(data != NULL && len == strlen(forged) && memcmp(data, forged, len) == 0);
  EXPECT(mailauth_inbound_outcome_bimi_remove_position(verdict, 1, &position), MAILAUTH_OK);
  TRUE_THAT(position == 3);
  EXPECT(mailauth_inbound_outcome_bimi_remove_occurrence(verdict, 1, &occurrence), MAILAUTH_OK);
  TRUE_THAT(occurrence == 1);
  name = NULL;
  EXPECT(mailauth_inbound_outcome_bimi_remove_name(verdict, 1, &name), MAILAUTH_OK);
  SAME(name, "bimi-indicator");
  mailauth_string_free(name);
  /* Out of range: nothing written. */
  size_t kept = 42;
  EXPECT(mailauth_inbound_outcome_bimi_remove_occurrence(verdict, 2, &kept),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(kept == 42);
  data = SENTINEL;
  EXPECT(mailauth_inbound_outcome_bimi_remove_field(verdict, 2, &data, &len),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(data == SENTINEL);
}

static void bimi_pass(const mailauth_resolver *zone) {
  where = "pass";
  mailauth_inbound_outcome *verdict = run(zone, "192.0.2.25", "example.org", true);
  if (verdict == NULL) return;
  char *text = NULL;
  EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &text), MAILAUTH_OK);
  CONTAINS(text, "dmarc=pass");
  CONTAINS(text, "; bimi=pass");
  CONTAINS(text, "header.d=example.org header.selector=default");
  CONTAINS(text, "policy.authority=none");
  CONTAINS(text, "policy.authority-uri=\"https://images.example.org/vmc.pem\"");
  CONTAINS(text, "policy.indicator-uri=\"https://images.example.org/logo.svg\"");
  mailauth_string_free(text);

  text = NULL;
  EXPECT(mailauth_inbound_outcome_bimi_location(verdict, &text), MAILAUTH_OK);
  SAME(text,
       "v=BIMI1; l=https://images.example.org/logo.svg; a=https://images.example.org/vmc.pem");
  mailauth_string_free(text);

  const mailauth_bimi_outcome *bimi = NULL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_OK);
  mailauth_bimi_result result = MAILAUTH_BIMI_SKIPPED;
  EXPECT(mailauth_bimi_outcome_result(bimi, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_BIMI_PASS);
  text = NULL;
  EXPECT(mailauth_bimi_outcome_result_name(bimi, &text), MAILAUTH_OK);
  SAME(text, "pass");
  mailauth_string_free(text);
  text = NULL;
  EXPECT(mailauth_bimi_outcome_reason(bimi, &text), MAILAUTH_OK);
  SAME(text, "valid bimi record");
  mailauth_string_free(text);
  text = NULL;
  EXPECT(mailauth_bimi_outcome_selector(bimi, &text), MAILAUTH_OK);
  SAME(text, "default");
  mailauth_string_free(text);
  text = SENTINEL;
  EXPECT(mailauth_bimi_outcome_selector_ignored(bimi, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  text = NULL;
  EXPECT(mailauth_bimi_outcome_domain(bimi, &text), MAILAUTH_OK);
  SAME(text, "example.org");
  mailauth_string_free(text);
  text = NULL;
  EXPECT(mailauth_bimi_outcome_authority(bimi, &text), MAILAUTH_OK);
  SAME(text, "none");
  mailauth_string_free(text);

  const mailauth_bimi_record *record = NULL;
  EXPECT(mailauth_bimi_outcome_record(bimi, &record), MAILAUTH_OK);
  size_t count = 0;
  EXPECT(mailauth_bimi_record_location_count(record, &count), MAILAUTH_OK);
  TRUE_THAT(count == 1);
  text = NULL;
  EXPECT(mailauth_bimi_record_location(record, 0, &text), MAILAUTH_OK);
  SAME(text, "https://images.example.org/logo.svg");
  mailauth_string_free(text);
  text = SENTINEL;
  EXPECT(mailauth_bimi_record_location(record, 1, (char **)&text), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(text == SENTINEL);
  text = NULL;
  EXPECT(mailauth_bimi_record_evidence(record, &text), MAILAUTH_OK);
  SAME(text, "https://images.example.org/vmc.pem");
  mailauth_string_free(text);
  text = NULL;
  EXPECT(mailauth_bimi_record_avatar_preference(record, &text), MAILAUTH_OK);
  SAME(text, "personal");
  mailauth_string_free(text);
  bool flag = true;
  EXPECT(mailauth_bimi_record_local_part_selector(record, &flag), MAILAUTH_OK);
  TRUE_THAT(!flag);
  flag = true;
  EXPECT(mailauth_bimi_record_is_declination(record, &flag), MAILAUTH_OK);
  TRUE_THAT(!flag);

  expect_forged_fields(verdict);
  /* The outcome and the record are borrowed: only the verdict is freed. */
  mailauth_inbound_outcome_free(verdict);
}

static void bimi_declined(const mailauth_resolver *zone) {
  where = "declined";
  mailauth_inbound_outcome *verdict = run(zone, "192.0.2.25", "example.net", true);
  if (verdict == NULL) return;
  const mailauth_bimi_outcome *bimi = NULL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_OK);
  mailauth_bimi_result result = MAILAUTH_BIMI_PASS;
  EXPECT(mailauth_bimi_outcome_result(bimi, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_BIMI_DECLINED);
  const mailauth_bimi_record *record = NULL;
  EXPECT(mailauth_bimi_outcome_record(bimi, &record), MAILAUTH_OK);
  bool declination = false;
  EXPECT(mailauth_bimi_record_is_declination(record, &declination), MAILAUTH_OK);
  TRUE_THAT(declination);
  size_t count = 9;
  EXPECT(mailauth_bimi_record_location_count(record, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  char *text = SENTINEL;
  EXPECT(mailauth_bimi_record_evidence(record, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  EXPECT(mailauth_inbound_outcome_bimi_location(verdict, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  text = NULL;
  EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &text), MAILAUTH_OK);
  CONTAINS(text, "bimi=declined");
  mailauth_string_free(text);
  mailauth_inbound_outcome_free(verdict);
}

static void bimi_skipped(const mailauth_resolver *zone) {
  where = "skipped";
  /* Outside example.org's SPF: DMARC fails, BIMI is skipped. */
  mailauth_inbound_outcome *verdict = run(zone, "203.0.113.9", "example.org", true);
  if (verdict == NULL) return;
  const mailauth_bimi_outcome *bimi = NULL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_OK);
  mailauth_bimi_result result = MAILAUTH_BIMI_PASS;
  EXPECT(mailauth_bimi_outcome_result(bimi, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_BIMI_SKIPPED);
  char *text = NULL;
  EXPECT(mailauth_bimi_outcome_reason(bimi, &text), MAILAUTH_OK);
  CONTAINS(text, "dmarc fail");
  mailauth_string_free(text);
  text = SENTINEL;
  EXPECT(mailauth_bimi_outcome_domain(bimi, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  const mailauth_bimi_record *record = SENTINEL;
  EXPECT(mailauth_bimi_outcome_record(bimi, &record), MAILAUTH_ABSENT);
  TRUE_THAT(record == SENTINEL);
  EXPECT(mailauth_inbound_outcome_bimi_location(verdict, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  text = NULL;
  EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &text), MAILAUTH_OK);
  CONTAINS(text, "dmarc=fail");
  CONTAINS(text, "bimi=skipped");
  mailauth_string_free(text);
  /* Forged fields are removed whatever the result. */
  expect_forged_fields(verdict);
  mailauth_inbound_outcome_free(verdict);
}

static void bimi_off(const mailauth_resolver *zone) {
  where = "off";
  mailauth_inbound_outcome *verdict = run(zone, "192.0.2.25", "example.org", false);
  if (verdict == NULL) return;
  const mailauth_bimi_outcome *bimi = SENTINEL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_ABSENT);
  TRUE_THAT(bimi == SENTINEL);
  size_t count = 9;
  EXPECT(mailauth_inbound_outcome_bimi_remove_count(verdict, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  char *text = NULL;
  EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &text), MAILAUTH_OK);
  CONTAINS(text, "dmarc=pass");
  TRUE_THAT(text != NULL && strstr(text, "bimi=") == NULL);
  mailauth_string_free(text);
  mailauth_inbound_outcome_free(verdict);
}

/* A record longer than max_record_bytes is invalid: bimi=fail. */
static void bimi_limits(const mailauth_resolver *zone) {
  where = "limits";
  mailauth_inbound *inbound = NULL;
  EXPECT(mailauth_inbound_new("192.0.2.25", "mx.sender.example", "alice@example.org",
                              "mx.example.com", NOW, &inbound),
         MAILAUTH_OK);
  if (inbound == NULL) return;
  EXPECT(mailauth_inbound_set_bimi(inbound, true), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_bimi_max_record_bytes(inbound, 20), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_bimi_max_location_uris(inbound, 2), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_bimi_require_signed_selector(inbound, false), MAILAUTH_OK);
  const char *text = message("example.org");
  EXPECT(mailauth_inbound_feed(inbound, (const uint8_t *)text, strlen(text)), MAILAUTH_OK);
  mailauth_check *check = NULL;
  EXPECT(mailauth_inbound_finish(inbound, &check), MAILAUTH_OK);
  mailauth_inbound_free(inbound);
  EXPECT(mailauth_check_resolve(check, zone), MAILAUTH_OK);
  mailauth_inbound_outcome *verdict = NULL;
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
  mailauth_check_free(check);
  const mailauth_bimi_outcome *bimi = NULL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_OK);
  mailauth_bimi_result result = MAILAUTH_BIMI_PASS;
  EXPECT(mailauth_bimi_outcome_result(bimi, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_BIMI_FAIL);
  char *reason = NULL;
  EXPECT(mailauth_bimi_outcome_reason(bimi, &reason), MAILAUTH_OK);
  SAME(reason, "invalid bimi record: record longer than 20 octets");
  mailauth_string_free(reason);
  mailauth_inbound_outcome_free(verdict);
}

/* The [bimi] section of a settings file reaches the pipeline. */
static void bimi_from_settings(const mailauth_resolver *zone) {
  where = "settings";
  static const char toml[] = "[bimi]\nenabled = true\nmax_record_bytes = 30\n";
  mailauth_settings *settings = NULL;
  char *error = NULL;
  EXPECT(mailauth_settings_load_text(toml, NULL, &settings, &error), MAILAUTH_OK);
  mailauth_string_free(error);
  if (settings == NULL) return;
  mailauth_inbound *inbound = NULL;
  EXPECT(mailauth_inbound_new("192.0.2.25", "mx.sender.example", "alice@example.org",
                              "mx.example.com", NOW, &inbound),
         MAILAUTH_OK);
  EXPECT(mailauth_inbound_use_settings(inbound, settings), MAILAUTH_OK);
  mailauth_settings_free(settings);
  const char *text = message("example.org");
  EXPECT(mailauth_inbound_feed(inbound, (const uint8_t *)text, strlen(text)), MAILAUTH_OK);
  mailauth_check *check = NULL;
  EXPECT(mailauth_inbound_finish(inbound, &check), MAILAUTH_OK);
  mailauth_inbound_free(inbound);
  EXPECT(mailauth_check_resolve(check, zone), MAILAUTH_OK);
  mailauth_inbound_outcome *verdict = NULL;
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
  mailauth_check_free(check);
  const mailauth_bimi_outcome *bimi = NULL;
  EXPECT(mailauth_inbound_outcome_bimi(verdict, &bimi), MAILAUTH_OK);
  char *reason = NULL;
  EXPECT(mailauth_bimi_outcome_reason(bimi, &reason), MAILAUTH_OK);
  SAME(reason, "invalid bimi record: record longer than 30 octets");
  mailauth_string_free(reason);
  size_t count = 0;
  EXPECT(mailauth_inbound_outcome_bimi_remove_count(verdict, &count), MAILAUTH_OK);
  TRUE_THAT(count == 2);
  mailauth_inbound_outcome_free(verdict);
}

static void record_parse(void) {
  where = "record";
  static const char good[] = "v=BIMI1; l=https://a.example.com/l.svg; lps=true";
  mailauth_bimi_record *record = NULL;
  EXPECT(mailauth_bimi_record_parse((const uint8_t *)good, strlen(good), &record, NULL),
         MAILAUTH_OK);
  bool lps = false;
  EXPECT(mailauth_bimi_record_local_part_selector(record, &lps), MAILAUTH_OK);
  TRUE_THAT(lps);
  char *text = SENTINEL;
  EXPECT(mailauth_bimi_record_avatar_preference(record, (char **)&text), MAILAUTH_ABSENT);
  TRUE_THAT(text == SENTINEL);
  mailauth_bimi_record_free(record);

  /* Two l= URIs: one more than the default allows. */
  static const char two[] = "v=BIMI1; l=https://a.example.com/1.svg,https://a.example.com/2.svg";
  record = SENTINEL;
  char *error = NULL;
  EXPECT(mailauth_bimi_record_parse((const uint8_t *)two, strlen(two), &record, &error),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(record == SENTINEL);
  SAME(error, "more than 1 l= uris");
  mailauth_string_free(error);
  record = NULL;
  EXPECT(mailauth_bimi_record_parse_with((const uint8_t *)two, strlen(two), 2048, 2, &record, NULL),
         MAILAUTH_OK);
  size_t count = 0;
  EXPECT(mailauth_bimi_record_location_count(record, &count), MAILAUTH_OK);
  TRUE_THAT(count == 2);
  text = NULL;
  EXPECT(mailauth_bimi_record_location(record, 1, &text), MAILAUTH_OK);
  SAME(text, "https://a.example.com/2.svg");
  mailauth_string_free(text);
  mailauth_bimi_record_free(record);

  static const char http[] = "v=BIMI1; l=http://a.example.com/l.svg";
  error = NULL;
  record = SENTINEL;
  EXPECT(mailauth_bimi_record_parse((const uint8_t *)http, strlen(http), &record, &error),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(record == SENTINEL);
  SAME(error, "invalid l= uri: not https");
  mailauth_string_free(error);
  /* Not UTF-8, NUL inside: an error, no crash. */
  static const uint8_t junk[] = {'v', '=', 'B', 'I', 'M', 'I', '1', ';', 'l', '=', 0xff, 0, 'x'};
  error = NULL;
  EXPECT(mailauth_bimi_record_parse(junk, sizeof junk, &record, &error),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(error != NULL);
  mailauth_string_free(error);
  EXPECT(mailauth_bimi_record_parse((const uint8_t *)"x", 1, &record, NULL),
         MAILAUTH_INVALID_ARGUMENT);
}

static void misuse(void) {
  where = "misuse";
  const mailauth_bimi_outcome *bimi = NULL;
  const mailauth_bimi_record *record = NULL;
  mailauth_bimi_result result;
  char *text = NULL;
  size_t count = 0;
  bool flag = false;
  const uint8_t *data = NULL;
  mailauth_bimi_record *owned = NULL;
  EXPECT(mailauth_inbound_set_bimi(NULL, true), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_set_bimi_require_signed_selector(NULL, true), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_set_bimi_max_record_bytes(NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_set_bimi_max_location_uris(NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi(NULL, &bimi), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_location(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_remove_count(NULL, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_remove_occurrence(NULL, 0, &count),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_remove_position(NULL, 0, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_remove_name(NULL, 0, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_bimi_remove_field(NULL, 0, &data, &count),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_result(NULL, &result), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_result_name(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_reason(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_selector(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_selector_ignored(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_domain(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_record(NULL, &record), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_outcome_authority(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_location_count(NULL, &count), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_location(NULL, 0, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_evidence(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_local_part_selector(NULL, &flag), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_avatar_preference(NULL, &text), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_is_declination(NULL, &flag), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_parse(NULL, 5, &owned, NULL),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_bimi_record_parse((const uint8_t *)"v=BIMI1; l=", 11, NULL, NULL),
         MAILAUTH_NULL_PARAMETER);
  mailauth_bimi_record_free(NULL);
}

int main(void) {
  mailauth_resolver *zone = NULL;
  EXPECT(mailauth_resolver_new_zone((const uint8_t *)ZONE, strlen(ZONE), &zone), MAILAUTH_OK);
  if (zone == NULL) {
    fprintf(stderr, "bimi: the zone does not load\n");
    return 1;
  }
  bimi_pass(zone);
  bimi_declined(zone);
  bimi_skipped(zone);
  bimi_off(zone);
  bimi_limits(zone);
  bimi_from_settings(zone);
  record_parse();
  misuse();
  mailauth_resolver_free(zone);
  if (failures > 0) {
    printf("bimi: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("bimi: %d checks passed\n", checks);
  return 0;
}
