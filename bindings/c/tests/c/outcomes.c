/* outcomes: runs the inbound pipeline on a message from a zone file and
 * prints every field of every outcome through the C accessors, one
 * `name=value` line each (`name absent` when the accessor says
 * MAILAUTH_ABSENT), for comparison with the same verdict read in Rust.
 *
 *   outcomes ZONE-FILE CLIENT-IP HELO MAIL-FROM NOW [TRUSTED-ID] < message
 *
 * Exits 0 when every accessor returned MAILAUTH_OK or MAILAUTH_ABSENT. */
#include <inttypes.h>
#include <mailauth.h>
#include <stdio.h>
#include <stdlib.h>

static int failures = 0;

static void put_string(const char *key, mailauth_status s, char *value) {
  if (s == MAILAUTH_OK)
    printf("%s=%s\n", key, value);
  else if (s == MAILAUTH_ABSENT)
    printf("%s absent\n", key);
  else {
    printf("%s error %u\n", key, (unsigned)s);
    failures++;
  }
  mailauth_string_free(value);
}

static void put_number(const char *key, mailauth_status s, uint64_t value) {
  if (s == MAILAUTH_OK)
    printf("%s=%" PRIu64 "\n", key, value);
  else if (s == MAILAUTH_ABSENT)
    printf("%s absent\n", key);
  else {
    printf("%s error %u\n", key, (unsigned)s);
    failures++;
  }
}

/* `CALL` writes through `&v`; the call is sequenced before the read. */
#define STRING(key, CALL)                                                                          \
  do {                                                                                             \
    char *v = NULL;                                                                                \
    mailauth_status st_ = (CALL);                                                                  \
    put_string(key, st_, v);                                                                       \
  } while (0)
#define NUMBER(key, type, CALL)                                                                    \
  do {                                                                                             \
    type v = 0;                                                                                    \
    mailauth_status st_ = (CALL);                                                                  \
    put_number(key, st_, (uint64_t)v);                                                             \
  } while (0)

static void spf(const char *prefix, const mailauth_spf_outcome *o) {
  char key[64];
#define K(name) (snprintf(key, sizeof key, "%s.%s", prefix, name), key)
  STRING(K("result"), mailauth_spf_outcome_result_name(o, &v));
  NUMBER(K("identity"), mailauth_spf_identity, mailauth_spf_outcome_identity(o, &v));
  STRING(K("client_ip"), mailauth_spf_outcome_client_ip(o, &v));
  STRING(K("helo"), mailauth_spf_outcome_helo(o, &v));
  STRING(K("sender"), mailauth_spf_outcome_sender(o, &v));
  STRING(K("domain"), mailauth_spf_outcome_domain(o, &v));
  STRING(K("reason"), mailauth_spf_outcome_reason(o, &v));
  STRING(K("explanation"), mailauth_spf_outcome_explanation(o, &v));
#undef K
}

static void dkim(const mailauth_dkim_outcome *o) {
  size_t count = 0;
  NUMBER("dkim.header_complete", bool, mailauth_dkim_outcome_header_complete(o, &v));
  STRING("dkim.header_error", mailauth_dkim_outcome_header_error(o, &v));
  if (mailauth_dkim_outcome_count(o, &count) != MAILAUTH_OK) failures++;
  printf("dkim.count=%zu\n", count);
  for (size_t i = 0; i < count; i++) {
    char key[64];
#define K(name) (snprintf(key, sizeof key, "dkim.%zu.%s", i, name), key)
    STRING(K("result"), mailauth_dkim_outcome_result_name(o, i, &v));
    STRING(K("reason"), mailauth_dkim_outcome_reason(o, i, &v));
    STRING(K("domain"), mailauth_dkim_outcome_domain(o, i, &v));
    STRING(K("selector"), mailauth_dkim_outcome_selector(o, i, &v));
    STRING(K("algorithm"), mailauth_dkim_outcome_algorithm(o, i, &v));
    STRING(K("identity"), mailauth_dkim_outcome_identity(o, i, &v));
    STRING(K("signature_prefix"), mailauth_dkim_outcome_signature_prefix(o, i, &v));
    NUMBER(K("key_bits"), size_t, mailauth_dkim_outcome_key_bits(o, i, &v));
    NUMBER(K("body_length"), uint64_t, mailauth_dkim_outcome_body_length(o, i, &v));
    NUMBER(K("unsigned_body_octets"), uint64_t,
           mailauth_dkim_outcome_unsigned_body_octets(o, i, &v));
    NUMBER(K("testing"), bool, mailauth_dkim_outcome_testing(o, i, &v));
#undef K
  }
}

static void dmarc(const mailauth_dmarc_outcome *o) {
  size_t count = 0;
  STRING("dmarc.result", mailauth_dmarc_outcome_result_name(o, &v));
  STRING("dmarc.author_domain", mailauth_dmarc_outcome_author_domain(o, &v));
  STRING("dmarc.policy_domain", mailauth_dmarc_outcome_policy_domain(o, &v));
  STRING("dmarc.organizational_domain", mailauth_dmarc_outcome_organizational_domain(o, &v));
  STRING("dmarc.policy", mailauth_dmarc_outcome_policy(o, &v));
  STRING("dmarc.policy_source", mailauth_dmarc_outcome_policy_source(o, &v));
  NUMBER("dmarc.disposition", mailauth_disposition, mailauth_dmarc_outcome_disposition(o, &v));
  if (mailauth_dmarc_outcome_aligned_count(o, &count) != MAILAUTH_OK) failures++;
  for (size_t i = 0; i < count; i++) {
    char *method = NULL, *domain = NULL;
    if (mailauth_dmarc_outcome_aligned(o, i, &method, &domain) == MAILAUTH_OK)
      printf("dmarc.aligned.%zu=%s %s\n", i, method, domain);
    else
      failures++;
    mailauth_string_free(method);
    mailauth_string_free(domain);
  }
  STRING("dmarc.testing", mailauth_dmarc_outcome_testing(o, &v));
  STRING("dmarc.reason", mailauth_dmarc_outcome_reason(o, &v));
}

int main(int argc, char **argv) {
  if (argc != 6 && argc != 7) {
    fprintf(stderr, "usage: outcomes ZONE-FILE CLIENT-IP HELO MAIL-FROM NOW [TRUSTED-ID] < message\n");
    return 2;
  }
  mailauth_resolver *zone = NULL;
  mailauth_inbound *inbound = NULL;
  mailauth_check *check = NULL;
  mailauth_inbound_outcome *verdict = NULL;
  mailauth_spf_outcome *spf_mail_from = NULL, *spf_helo = NULL;
  mailauth_dkim_outcome *dkim_outcome = NULL;
  mailauth_dmarc_outcome *dmarc_outcome = NULL;
  int exit_code = 2;
  mailauth_status s;

  if ((s = mailauth_resolver_new_zone_file(argv[1], &zone)) != MAILAUTH_OK ||
      (s = mailauth_inbound_new(argv[2], argv[3], argv[4], "mx.example.com",
                                strtoull(argv[5], NULL, 10), &inbound)) != MAILAUTH_OK ||
      (argc == 7 && (s = mailauth_inbound_add_trusted_authserv_id(inbound, argv[6])) != MAILAUTH_OK))
    goto out;
  uint8_t chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
    if ((s = mailauth_inbound_feed(inbound, chunk, n)) != MAILAUTH_OK) goto out;
  if ((s = mailauth_inbound_finish(inbound, &check)) != MAILAUTH_OK ||
      (s = mailauth_check_resolve(check, zone)) != MAILAUTH_OK ||
      (s = mailauth_check_inbound_outcome(check, &verdict)) != MAILAUTH_OK)
    goto out;

  STRING("skipped", mailauth_inbound_outcome_skipped(verdict, &v));
  STRING("header_error", mailauth_inbound_outcome_header_error(verdict, &v));
  NUMBER("disposition", mailauth_disposition, mailauth_inbound_outcome_disposition(verdict, &v));
  STRING("authentication_results",
         mailauth_inbound_outcome_authentication_results(verdict, &v));
  if (mailauth_inbound_outcome_spf(verdict, &spf_mail_from) == MAILAUTH_OK)
    spf("spf_mail_from", spf_mail_from);
  if (mailauth_inbound_outcome_spf_helo(verdict, &spf_helo) == MAILAUTH_OK)
    spf("spf_helo", spf_helo);
  if (mailauth_inbound_outcome_dkim(verdict, &dkim_outcome) == MAILAUTH_OK) dkim(dkim_outcome);
  if (mailauth_inbound_outcome_dmarc(verdict, &dmarc_outcome) == MAILAUTH_OK)
    dmarc(dmarc_outcome);

  size_t count = 0;
  if (mailauth_inbound_outcome_forged_count(verdict, &count) != MAILAUTH_OK) failures++;
  for (size_t i = 0; i < count; i++) {
    size_t occurrence = 0, position = 0, len = 0;
    const uint8_t *data = NULL;
    if (mailauth_inbound_outcome_forged_occurrence(verdict, i, &occurrence) != MAILAUTH_OK ||
        mailauth_inbound_outcome_forged_position(verdict, i, &position) != MAILAUTH_OK ||
        mailauth_inbound_outcome_forged_field(verdict, i, &data, &len) != MAILAUTH_OK) {
      failures++;
      continue;
    }
    printf("remove.%zu=%zu %zu %.*s\n", i, occurrence, position, (int)len, (const char *)data);
  }
  if (mailauth_inbound_outcome_trusted_count(verdict, &count) != MAILAUTH_OK) failures++;
  for (size_t i = 0; i < count; i++) {
    char key[32];
    snprintf(key, sizeof key, "trusted.%zu", i);
    STRING(key, mailauth_inbound_outcome_trusted_result(verdict, i, &v));
  }
  exit_code = failures == 0 ? 0 : 1;
out:
  if (exit_code == 2) fprintf(stderr, "outcomes: status %u\n", (unsigned)s);
  mailauth_spf_outcome_free(spf_mail_from);
  mailauth_spf_outcome_free(spf_helo);
  mailauth_dkim_outcome_free(dkim_outcome);
  mailauth_dmarc_outcome_free(dmarc_outcome);
  mailauth_inbound_outcome_free(verdict);
  mailauth_check_free(check);
  mailauth_inbound_free(inbound);
  mailauth_resolver_free(zone);
  return exit_code;
}
