/* Misuse of the C API: every call below is wrong in some way and must
 * return its documented status, leave out parameters alone, and neither
 * crash nor leak (the test runs this under valgrind and ASan/UBSan too).
 * Prints "misuse: N checks passed" and exits 0, or names each failure. */
#include <mailauth.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;

#define EXPECT(expr, expected)                                                  \
  do {                                                                          \
    mailauth_status got_ = (expr);                                              \
    checks++;                                                                   \
    if (got_ != (expected)) {                                                   \
      failures++;                                                               \
      fprintf(stderr, "%s:%d: %s gave %u, expected %s\n", __FILE__, __LINE__, \
              #expr, (unsigned)got_, #expected);                                \
    }                                                                           \
  } while (0)

#define TRUE_THAT(cond)                                                       \
  do {                                                                        \
    checks++;                                                                 \
    if (!(cond)) {                                                            \
      failures++;                                                             \
      fprintf(stderr, "%s:%d: not true: %s\n", __FILE__, __LINE__, #cond);  \
    }                                                                         \
  } while (0)

static const char ZONE[] =
    "$ORIGIN example.org.\n"
    "@ 3600 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n";

static const char KEY[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIByadfkyAEuzLbMKHsWlh6AUndpwAcXsHkrVpl7GehND\n"
    "-----END PRIVATE KEY-----\n";

static const char MESSAGE[] = "From: alice@example.org\r\nSubject: hi\r\n\r\nbody\r\n";

/* A sentinel that out parameters must keep when a call fails. */
static int sentinel_object;
#define SENTINEL ((void *)&sentinel_object)

static void null_arguments(void) {
  size_t n = 7;
  mailauth_check *check = SENTINEL;
  mailauth_resolver *resolver = SENTINEL;
  mailauth_answer *answer = NULL;

  EXPECT(mailauth_check_poll(NULL, &n), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(n == 7);
  EXPECT(mailauth_spf_check_new(NULL, "h", "a@example.org", 0, &check), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_spf_check_new("192.0.2.1", NULL, "a@example.org", 0, &check),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_spf_check_new("192.0.2.1", "h", "a@example.org", 0, NULL),
         MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(check == SENTINEL);
  EXPECT(mailauth_resolver_new_zone(NULL, 5, &resolver), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_resolver_new_zone_file(NULL, &resolver), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_resolver_new_callbacks(NULL, &resolver), MAILAUTH_NULL_PARAMETER);
  mailauth_resolver_callbacks no_lookup = {NULL, NULL};
  EXPECT(mailauth_resolver_new_callbacks(&no_lookup, &resolver), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(resolver == SENTINEL);
  EXPECT(mailauth_check_resolve(NULL, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_check_spf_outcome(NULL, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dkim_verifier_feed(NULL, (const uint8_t *)"x", 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dkim_signing_new(NULL, 0, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_spf_outcome_reason(NULL, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dkim_outcome_count(NULL, &n), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_answer_add_txt(NULL, NULL, 0), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_answer_new(&answer), MAILAUTH_OK);
  EXPECT(mailauth_answer_add_a(answer, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_answer_add_mx(answer, 10, NULL), MAILAUTH_NULL_PARAMETER);
  mailauth_answer_free(answer);

  /* _free(NULL) is a no-op for every handle. */
  mailauth_check_free(NULL);
  mailauth_resolver_free(NULL);
  mailauth_answer_free(NULL);
  mailauth_spf_outcome_free(NULL);
  mailauth_dkim_outcome_free(NULL);
  mailauth_dkim_verifier_free(NULL);
  mailauth_dkim_signing_free(NULL);
  mailauth_signing_table_free(NULL);
  mailauth_string_free(NULL);
}

static void bad_values(void) {
  mailauth_check *check = SENTINEL;
  mailauth_resolver *resolver = SENTINEL;
  mailauth_answer *answer = NULL;
  char buf[64];
  size_t written = 99;

  EXPECT(mailauth_spf_check_new("not an ip", "h", "a@example.org", 0, &check),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_spf_check_new("192.0.2.1", "h\xff", "a@example.org", 0, &check),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(check == SENTINEL);
  EXPECT(mailauth_resolver_new_zone((const uint8_t *)"@ IN BOGUS x\n", 13, &resolver),
         MAILAUTH_ZONE_SYNTAX);
  EXPECT(mailauth_resolver_new_zone((const uint8_t *)"\xff\xfe", 2, &resolver),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_resolver_new_zone_file("/nonexistent/zone", &resolver), MAILAUTH_IO_ERROR);
  TRUE_THAT(resolver == SENTINEL);
  const char *bad_server = "not-an-address";
  EXPECT(mailauth_resolver_new_stub(&bad_server, 1, 0, &resolver), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_resolver_new_stub(&bad_server, 0, 0, &resolver), MAILAUTH_INVALID_ARGUMENT);
  /* An empty zone is fine: every name is NXDOMAIN. */
  EXPECT(mailauth_resolver_new_zone(NULL, 0, &resolver), MAILAUTH_OK);
  mailauth_resolver_free(resolver);

  EXPECT(mailauth_status_message(MAILAUTH_OK, buf, 1, &written), MAILAUTH_INSUFFICIENT_SIZE);
  TRUE_THAT(written == 99);
  EXPECT(mailauth_status_message(999, buf, sizeof buf, &written), MAILAUTH_OK);
  TRUE_THAT(strcmp(buf, "unknown status") == 0 && written == 14);
  EXPECT(mailauth_status_message(MAILAUTH_UNEXPECTED_ANSWER, buf, sizeof buf, &written),
         MAILAUTH_OK);
  TRUE_THAT(strcmp(buf, "answer supplied for a query that was not asked") == 0);

  EXPECT(mailauth_answer_new(&answer), MAILAUTH_OK);
  EXPECT(mailauth_answer_set_status(answer, 42), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_answer_add_txt(answer, (const uint8_t *)"v=spf1", 6), MAILAUTH_OK);
  EXPECT(mailauth_answer_add_a(answer, (const uint8_t *)"\xc0\x00\x02\x01"),
         MAILAUTH_INVALID_ARGUMENT); /* mixed types */
  EXPECT(mailauth_answer_set_status(answer, MAILAUTH_DNS_NXDOMAIN), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_answer_add_mx(answer, 10, "bad..name"), MAILAUTH_INVALID_ARGUMENT);
  mailauth_answer_free(answer);
}

static void event_loop_misuse(void) {
  mailauth_check *check = NULL;
  mailauth_spf_outcome *outcome = SENTINEL;
  mailauth_dkim_outcome *dkim_outcome = SENTINEL;
  size_t count = 0;
  const char *name = NULL;
  uint16_t rr_type = 0;
  uint8_t packet[512];
  size_t len = 0;

  EXPECT(mailauth_spf_check_new("192.0.2.7", "mx.example.org", "alice@example.org", 0, &check),
         MAILAUTH_OK);
  /* Before any poll there is nothing to answer. */
  EXPECT(mailauth_check_supply_status(check, 0, MAILAUTH_DNS_NXDOMAIN),
         MAILAUTH_UNEXPECTED_ANSWER);
  EXPECT(mailauth_check_spf_outcome(check, &outcome), MAILAUTH_NOT_DONE);
  TRUE_THAT(outcome == SENTINEL);
  EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
  TRUE_THAT(count == 1);
  EXPECT(mailauth_check_query(check, 0, &name, &rr_type), MAILAUTH_OK);
  TRUE_THAT(strcmp(name, "example.org") == 0 && rr_type == 16);
  EXPECT(mailauth_check_query(check, 1, &name, &rr_type), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_check_query_packet(check, 0, 0x1234, packet, 4, &len),
         MAILAUTH_INSUFFICIENT_SIZE);
  EXPECT(mailauth_check_query_packet(check, 0, 0x1234, packet, sizeof packet, &len), MAILAUTH_OK);
  TRUE_THAT(len > 12 && packet[0] == 0x12 && packet[1] == 0x34);

  /* Answers for queries that were not asked. */
  EXPECT(mailauth_check_supply_status(check, 5, MAILAUTH_DNS_NXDOMAIN),
         MAILAUTH_UNEXPECTED_ANSWER);
  EXPECT(mailauth_check_supply_status(check, 0, 77), MAILAUTH_INVALID_ARGUMENT);
  /* Packets that are not answers to the query. */
  EXPECT(mailauth_check_supply_packet(check, 0, NULL, 0), MAILAUTH_DNS_MALFORMED);
  EXPECT(mailauth_check_supply_packet(check, 0, packet, len), MAILAUTH_DNS_MALFORMED);
  uint8_t *huge = NULL;
  EXPECT(mailauth_check_supply_packet(check, 0, huge, SIZE_MAX), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_check_supply_packet(check, 0, packet, SIZE_MAX), MAILAUTH_INVALID_ARGUMENT);
  packet[2] |= 0x80; /* QR: a response */
  packet[2] |= 0x02; /* TC: truncated */
  EXPECT(mailauth_check_supply_packet(check, 0, packet, len), MAILAUTH_DNS_TRUNCATED);
  packet[2] &= (uint8_t)~0x02;
  /* A response with no answer records: no data. */
  EXPECT(mailauth_check_supply_packet(check, 0, packet, len), MAILAUTH_OK);
  /* Answered already. */
  EXPECT(mailauth_check_supply_packet(check, 0, packet, len), MAILAUTH_UNEXPECTED_ANSWER);
  EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_check_dkim_outcome(check, &dkim_outcome), MAILAUTH_WRONG_KIND);
  TRUE_THAT(dkim_outcome == SENTINEL);
  EXPECT(mailauth_check_spf_outcome(check, &outcome), MAILAUTH_OK);
  mailauth_spf_result result = 99;
  EXPECT(mailauth_spf_outcome_result(outcome, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_SPF_NONE);
  char *explanation = SENTINEL;
  EXPECT(mailauth_spf_outcome_explanation(outcome, &explanation), MAILAUTH_ABSENT);
  TRUE_THAT(explanation == SENTINEL);
  /* Polling a finished check again is harmless. */
  EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_check_supply_status(check, 0, MAILAUTH_DNS_NXDOMAIN),
         MAILAUTH_UNEXPECTED_ANSWER);
  mailauth_spf_outcome_free(outcome);
  mailauth_check_free(check);
}

static mailauth_status lookup_from_zone(void *userdata, const char *name, uint16_t rr_type,
                                        mailauth_answer *answer) {
  int *calls = userdata;
  (*calls)++;
  if (rr_type == 16 && strcmp(name, "example.org") == 0)
    return mailauth_answer_add_txt(answer, (const uint8_t *)"v=spf1 ip4:192.0.2.0/24 -all", 28);
  return mailauth_answer_set_status(answer, MAILAUTH_DNS_NXDOMAIN);
}

static void resolvers(void) {
  int calls = 0;
  mailauth_resolver_callbacks callbacks = {&calls, lookup_from_zone};
  mailauth_resolver *resolver = NULL;
  mailauth_resolver *zone = NULL;
  mailauth_check *check = NULL;
  mailauth_spf_outcome *outcome = NULL;
  mailauth_spf_result result = 99;

  EXPECT(mailauth_resolver_new_callbacks(&callbacks, &resolver), MAILAUTH_OK);
  EXPECT(mailauth_spf_check_new("192.0.2.7", "mx.example.org", "alice@example.org", 0, &check),
         MAILAUTH_OK);
  EXPECT(mailauth_check_resolve(check, resolver), MAILAUTH_OK);
  EXPECT(mailauth_check_spf_outcome(check, &outcome), MAILAUTH_OK);
  EXPECT(mailauth_spf_outcome_result(outcome, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_SPF_PASS && calls == 1);
  mailauth_spf_outcome_free(outcome);
  mailauth_check_free(check);

  EXPECT(mailauth_resolver_new_zone((const uint8_t *)ZONE, strlen(ZONE), &zone), MAILAUTH_OK);
  EXPECT(mailauth_spf_check_new("198.51.100.1", "mx.example.org", "", 0, &check), MAILAUTH_OK);
  EXPECT(mailauth_check_resolve(check, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_spf_outcome(check, &outcome), MAILAUTH_OK);
  EXPECT(mailauth_spf_outcome_result(outcome, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_SPF_NONE); /* postmaster@mx.example.org: no record */
  mailauth_spf_outcome_free(outcome);
  mailauth_check_free(check);
  mailauth_resolver_free(zone);
  mailauth_resolver_free(resolver);
}

static void feeding_after_finish(void) {
  mailauth_dkim_verifier *verifier = NULL;
  mailauth_check *check = NULL;
  mailauth_check *again = SENTINEL;
  mailauth_dkim_outcome *outcome = NULL;
  size_t count = 99;

  EXPECT(mailauth_dkim_verifier_new(0, &verifier), MAILAUTH_OK);
  EXPECT(mailauth_dkim_verifier_feed(verifier, NULL, 0), MAILAUTH_OK);
  EXPECT(mailauth_dkim_verifier_feed(verifier, (const uint8_t *)MESSAGE, 0), MAILAUTH_OK);
  EXPECT(mailauth_dkim_verifier_feed(verifier, (const uint8_t *)MESSAGE, SIZE_MAX),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_dkim_verifier_feed(verifier, (const uint8_t *)MESSAGE, strlen(MESSAGE)),
         MAILAUTH_OK);
  EXPECT(mailauth_dkim_verifier_finish(verifier, &check), MAILAUTH_OK);
  EXPECT(mailauth_dkim_verifier_feed(verifier, (const uint8_t *)"x", 1),
         MAILAUTH_ALREADY_FINISHED);
  EXPECT(mailauth_dkim_verifier_finish(verifier, &again), MAILAUTH_ALREADY_FINISHED);
  TRUE_THAT(again == SENTINEL);
  EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0); /* no signature: nothing to look up */
  EXPECT(mailauth_check_spf_outcome(check, (mailauth_spf_outcome **)&again), MAILAUTH_WRONG_KIND);
  EXPECT(mailauth_check_dkim_outcome(check, &outcome), MAILAUTH_OK);
  EXPECT(mailauth_dkim_outcome_count(outcome, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  mailauth_dkim_result result = 99;
  EXPECT(mailauth_dkim_outcome_result(outcome, 0, &result), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(result == 99);
  mailauth_dkim_outcome_free(outcome);
  mailauth_check_free(check);
  mailauth_dkim_verifier_free(verifier);
}

static void signing(void) {
  mailauth_signing_table *table = NULL;
  mailauth_signing_table *loaded = SENTINEL;
  mailauth_dkim_signing *signing = NULL;
  char *field = SENTINEL;

  EXPECT(mailauth_signing_table_load_opendkim("/nonexistent/KeyTable", "/nonexistent/SigningTable",
                                              &loaded),
         MAILAUTH_TABLE_INVALID);
  TRUE_THAT(loaded == SENTINEL);
  EXPECT(mailauth_signing_table_new(&table), MAILAUTH_OK);
  EXPECT(mailauth_signing_table_add(table, "example.org", "example.org", "sel",
                                    (const uint8_t *)"not a key", 9),
         MAILAUTH_KEY_INVALID);
  EXPECT(mailauth_signing_table_add(table, "bad pattern", "example.org", "sel",
                                    (const uint8_t *)KEY, strlen(KEY)),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_signing_table_add(table, "example.org", "example.org", "bad selector!",
                                    (const uint8_t *)KEY, strlen(KEY)),
         MAILAUTH_INVALID_ARGUMENT);

  /* An empty table has no rule for anyone. */
  EXPECT(mailauth_dkim_signing_new(table, 0, &signing), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)MESSAGE, strlen(MESSAGE)),
         MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_NO_SIGNING_RULE);
  TRUE_THAT(field == SENTINEL);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)"x", 1), MAILAUTH_ALREADY_FINISHED);
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_ALREADY_FINISHED);
  mailauth_dkim_signing_free(signing);

  EXPECT(mailauth_signing_table_add(table, "example.org", "example.org", "sel",
                                    (const uint8_t *)KEY, strlen(KEY)),
         MAILAUTH_OK);
  /* No From field. */
  EXPECT(mailauth_dkim_signing_new(table, 0, &signing), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)"Subject: x\r\n\r\nbody\r\n", 20),
         MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_SIGN_FAILED);
  mailauth_dkim_signing_free(signing);

  /* A header over the limits (2 MiB of one field) fails; the body of a
   * big message streams. */
  size_t big = 2u << 20;
  char *junk = malloc(big);
  TRUE_THAT(junk != NULL);
  if (junk == NULL) return;
  memset(junk, 'a', big);
  EXPECT(mailauth_dkim_signing_new(table, 0, &signing), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)"X-Big: ", 7), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)junk, big), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)MESSAGE, strlen(MESSAGE)),
         MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_SIGN_FAILED);
  mailauth_dkim_signing_free(signing);

  EXPECT(mailauth_dkim_signing_new(table, 0, &signing), MAILAUTH_OK);
  EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)MESSAGE, strlen(MESSAGE)),
         MAILAUTH_OK);
  for (int i = 0; i < 8; i++)
    EXPECT(mailauth_dkim_signing_feed(signing, (const uint8_t *)junk, big), MAILAUTH_OK);
  field = NULL;
  EXPECT(mailauth_dkim_signing_finish(signing, &field), MAILAUTH_OK);
  TRUE_THAT(field != NULL && strncmp(field, "DKIM-Signature: v=1; a=ed25519-sha256;", 38) == 0);
  mailauth_string_free(field);
  mailauth_dkim_signing_free(signing);
  free(junk);
  mailauth_signing_table_free(table);
}

static void inbound_misuse(void) {
  mailauth_inbound *inbound = SENTINEL;
  mailauth_check *check = NULL;
  mailauth_check *again = SENTINEL;
  mailauth_inbound_outcome *verdict = SENTINEL;
  mailauth_spf_outcome *spf = SENTINEL;
  size_t count = 99;

  EXPECT(mailauth_inbound_new("192.0.2.1", "h", "a@example.org", NULL, 0, &inbound),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_new("300.0.0.1", "h", "a@example.org", "mx", 0, &inbound),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(inbound == SENTINEL);
  EXPECT(mailauth_inbound_new("192.0.2.1", "h", "a@example.org", "mx", 0, &inbound), MAILAUTH_OK);
  EXPECT(mailauth_inbound_add_internal_network(inbound, "192.0.2.0/33"), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_inbound_add_internal_network(inbound, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_add_internal_network(inbound, "198.51.100.0/24"), MAILAUTH_OK);
  EXPECT(mailauth_inbound_add_trusted_authserv_id(inbound, "relay.example.net"), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_check_helo(inbound, false), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_dmarc(inbound, 7, 0), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_inbound_set_dmarc(inbound, MAILAUTH_DMARC_MODE_RFC7489, 100),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_inbound_set_dmarc(NULL, MAILAUTH_DMARC_MODE_RFC7489, 0), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_set_dmarc(inbound, MAILAUTH_DMARC_MODE_RFC7489, 99), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_authenticated(NULL, true), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_feed(inbound, NULL, 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_feed(inbound, (const uint8_t *)MESSAGE, strlen(MESSAGE)), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_authenticated(inbound, true), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_add_internal_network(inbound, "192.0.2.0/24"), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_finish(inbound, &check), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_check_helo(inbound, true), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_set_dmarc(inbound, MAILAUTH_DMARC_MODE_RFC9989, 0), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_feed(inbound, (const uint8_t *)"x", 1), MAILAUTH_ALREADY_FINISHED);
  EXPECT(mailauth_inbound_finish(inbound, &again), MAILAUTH_ALREADY_FINISHED);
  TRUE_THAT(again == SENTINEL);
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_NOT_DONE);
  EXPECT(mailauth_check_spf_outcome(check, &spf), MAILAUTH_NOT_DONE);
  /* Answer everything with NXDOMAIN until the pipeline finishes. */
  for (int round = 0; round < 50; round++) {
    EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
    if (count == 0) break;
    for (size_t i = 0; i < count; i++)
      EXPECT(mailauth_check_supply_status(check, i, MAILAUTH_DNS_NXDOMAIN), MAILAUTH_OK);
  }
  TRUE_THAT(count == 0);
  EXPECT(mailauth_check_spf_outcome(check, &spf), MAILAUTH_WRONG_KIND);
  TRUE_THAT(spf == SENTINEL);
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
  mailauth_dmarc_outcome *dmarc = NULL;
  mailauth_dmarc_result dmarc_result = 99;
  EXPECT(mailauth_inbound_outcome_dmarc(verdict, &dmarc), MAILAUTH_OK);
  EXPECT(mailauth_dmarc_outcome_result(dmarc, &dmarc_result), MAILAUTH_OK);
  TRUE_THAT(dmarc_result == MAILAUTH_DMARC_NONE);
  char *domain = SENTINEL;
  EXPECT(mailauth_dmarc_outcome_policy_domain(dmarc, &domain), MAILAUTH_ABSENT);
  TRUE_THAT(domain == SENTINEL);
  mailauth_dmarc_outcome_free(dmarc);
  EXPECT(mailauth_inbound_outcome_forged_count(verdict, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_inbound_outcome_forged_occurrence(verdict, 0, &count), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_inbound_outcome_forged_position(verdict, 0, &count), MAILAUTH_INVALID_ARGUMENT);
  const uint8_t *raw = SENTINEL;
  EXPECT(mailauth_inbound_outcome_forged_field(verdict, 0, &raw, &count), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_inbound_outcome_forged_field(verdict, 0, &raw, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(raw == SENTINEL);
  EXPECT(mailauth_inbound_outcome_trusted_count(verdict, &count), MAILAUTH_OK);
  TRUE_THAT(count == 0);
  EXPECT(mailauth_inbound_outcome_trusted_result(verdict, 0, &domain), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(domain == SENTINEL);
  EXPECT(mailauth_inbound_outcome_skipped(verdict, &domain), MAILAUTH_ABSENT);
  EXPECT(mailauth_inbound_outcome_header_error(verdict, &domain), MAILAUTH_ABSENT);
  TRUE_THAT(domain == SENTINEL);
  mailauth_spf_outcome *helo = SENTINEL;
  EXPECT(mailauth_inbound_outcome_spf_helo(verdict, &helo), MAILAUTH_ABSENT); /* check_helo off */
  TRUE_THAT(helo == SENTINEL);
  mailauth_inbound_outcome_free(verdict);
  mailauth_inbound_outcome_free(NULL);
  mailauth_check_free(check);
  mailauth_inbound_free(inbound);

  /* Authenticated clients and internal networks are not checked: no
   * queries, no Authentication-Results field. */
  for (int variant = 0; variant < 3; variant++) {
    const char *ip = variant == 2 ? "2001:db8::25" : "192.0.2.1";
    EXPECT(mailauth_inbound_new(ip, "h", "a@example.org", "mx", 0, &inbound), MAILAUTH_OK);
    if (variant == 0) EXPECT(mailauth_inbound_set_authenticated(inbound, true), MAILAUTH_OK);
    if (variant == 1) EXPECT(mailauth_inbound_add_internal_network(inbound, "192.0.2.1"), MAILAUTH_OK);
    if (variant == 2)
      EXPECT(mailauth_inbound_add_internal_network(inbound, "2001:db8::/32"), MAILAUTH_OK);
    EXPECT(mailauth_inbound_finish(inbound, &check), MAILAUTH_OK); /* an empty message */
    EXPECT(mailauth_check_poll(check, &count), MAILAUTH_OK);
    TRUE_THAT(count == 0);
    EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
    char *field = SENTINEL;
    EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &field), MAILAUTH_ABSENT);
    TRUE_THAT(field == SENTINEL);
    mailauth_dmarc_outcome *none = SENTINEL;
    EXPECT(mailauth_inbound_outcome_dmarc(verdict, &none), MAILAUTH_ABSENT);
    TRUE_THAT(none == SENTINEL);
    mailauth_inbound_outcome_free(verdict);
    mailauth_check_free(check);
    mailauth_inbound_free(inbound);
  }
  mailauth_inbound_free(NULL);
}

static const char DMARC_ZONE[] =
    "$ORIGIN example.org.\n"
    "@ 3600 IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
    "_dmarc 3600 IN TXT \"v=DMARC1; p=reject\"\n";

static void dmarc_check(void) {
  mailauth_resolver *zone = NULL;
  mailauth_check *spf = NULL;
  mailauth_check *dmarc = SENTINEL;
  mailauth_spf_outcome *spf_outcome = NULL;
  mailauth_dmarc_outcome *outcome = SENTINEL;
  mailauth_dmarc_result result = 99;
  mailauth_disposition disposition = 99;
  char *text = NULL;

  EXPECT(mailauth_dmarc_check_new(NULL, NULL, NULL, &dmarc), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dmarc_check_new("bad..domain", NULL, NULL, &dmarc), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_dmarc_check_new_with("example.org", NULL, NULL, 2, 0, &dmarc),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_dmarc_check_new_with("example.org", NULL, NULL, MAILAUTH_DMARC_MODE_RFC7489, 100,
                                       &dmarc),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_dmarc_check_new_with("example.org", NULL, NULL, MAILAUTH_DMARC_MODE_RFC7489, 0,
                                       NULL),
         MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(dmarc == SENTINEL);
  EXPECT(mailauth_resolver_new_zone((const uint8_t *)DMARC_ZONE, strlen(DMARC_ZONE), &zone),
         MAILAUTH_OK);
  /* SPF fails for a client outside example.org's range. */
  EXPECT(mailauth_spf_check_new("198.51.100.9", "h.example.net", "bob@example.org", 0, &spf),
         MAILAUTH_OK);
  EXPECT(mailauth_check_resolve(spf, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_spf_outcome(spf, &spf_outcome), MAILAUTH_OK);
  EXPECT(mailauth_dmarc_check_new("Example.ORG", spf_outcome, NULL, &dmarc), MAILAUTH_OK);
  EXPECT(mailauth_check_dmarc_outcome(dmarc, &outcome), MAILAUTH_NOT_DONE);
  TRUE_THAT(outcome == SENTINEL);
  EXPECT(mailauth_check_resolve(dmarc, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_dmarc_outcome(spf, &outcome), MAILAUTH_WRONG_KIND);
  EXPECT(mailauth_check_dmarc_outcome(dmarc, &outcome), MAILAUTH_OK);
  EXPECT(mailauth_dmarc_outcome_result(outcome, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_DMARC_FAIL);
  EXPECT(mailauth_dmarc_outcome_disposition(outcome, &disposition), MAILAUTH_OK);
  TRUE_THAT(disposition == MAILAUTH_DISPOSITION_REJECT);
  EXPECT(mailauth_dmarc_outcome_policy(outcome, &text), MAILAUTH_OK);
  TRUE_THAT(text != NULL && strcmp(text, "reject") == 0);
  mailauth_string_free(text);
  EXPECT(mailauth_dmarc_outcome_policy_domain(outcome, &text), MAILAUTH_OK);
  TRUE_THAT(text != NULL && strcmp(text, "example.org") == 0);
  mailauth_string_free(text);
  EXPECT(mailauth_dmarc_outcome_author_domain(outcome, &text), MAILAUTH_OK);
  TRUE_THAT(text != NULL && strcmp(text, "example.org") == 0);
  mailauth_string_free(text);
  mailauth_dmarc_outcome_free(outcome);
  mailauth_dmarc_outcome_free(NULL);
  mailauth_check_free(dmarc);

  /* With SPF passing for example.org, DMARC passes. */
  mailauth_spf_outcome_free(spf_outcome);
  mailauth_check_free(spf);
  EXPECT(mailauth_spf_check_new("192.0.2.9", "h.example.org", "bob@example.org", 0, &spf),
         MAILAUTH_OK);
  EXPECT(mailauth_check_resolve(spf, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_spf_outcome(spf, &spf_outcome), MAILAUTH_OK);
  EXPECT(mailauth_dmarc_check_new("example.org", spf_outcome, NULL, &dmarc), MAILAUTH_OK);
  EXPECT(mailauth_check_resolve(dmarc, zone), MAILAUTH_OK);
  EXPECT(mailauth_check_dmarc_outcome(dmarc, &outcome), MAILAUTH_OK);
  EXPECT(mailauth_dmarc_outcome_result(outcome, &result), MAILAUTH_OK);
  TRUE_THAT(result == MAILAUTH_DMARC_PASS);
  EXPECT(mailauth_dmarc_outcome_result_name(outcome, &text), MAILAUTH_OK);
  TRUE_THAT(text != NULL && strcmp(text, "pass") == 0);
  mailauth_string_free(text);
  size_t aligned_count = 9;
  char *method = SENTINEL, *aligned = SENTINEL;
  EXPECT(mailauth_dmarc_outcome_aligned_count(outcome, &aligned_count), MAILAUTH_OK);
  TRUE_THAT(aligned_count == 1);
  EXPECT(mailauth_dmarc_outcome_aligned(outcome, 1, &method, &aligned), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_dmarc_outcome_aligned(outcome, 0, NULL, &aligned), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(method == SENTINEL && aligned == SENTINEL);
  EXPECT(mailauth_dmarc_outcome_aligned(outcome, 0, &method, &aligned), MAILAUTH_OK);
  TRUE_THAT(strcmp(method, "spf") == 0 && strcmp(aligned, "example.org") == 0);
  mailauth_string_free(method);
  mailauth_string_free(aligned);
  EXPECT(mailauth_dmarc_outcome_policy_source(outcome, &text), MAILAUTH_OK);
  TRUE_THAT(text != NULL && strcmp(text, "p") == 0);
  mailauth_string_free(text);
  mailauth_dmarc_outcome_free(outcome);
  mailauth_check_free(dmarc);
  mailauth_spf_outcome_free(spf_outcome);
  mailauth_check_free(spf);
  mailauth_resolver_free(zone);
}

int main(void) {
  null_arguments();
  bad_values();
  event_loop_misuse();
  resolvers();
  feeding_after_finish();
  signing();
  inbound_misuse();
  dmarc_check();
  if (failures > 0) {
    fprintf(stderr, "misuse: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("misuse: %d checks passed\n", checks);
  return 0;
}
