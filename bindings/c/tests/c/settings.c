/* settings: the check constructors that take a settings file use its knobs
 * (SPF limits, DKIM key size, signing canonicalization, DMARC settings,
 * the inbound pipeline's checks), against the bundled example zone.
 *
 *   settings EXAMPLES-DATA-DIR
 *
 * Prints a line per check and exits 0 when every check passed. */
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

static const char MESSAGE[] = "From: Alice <alice@example.org>\r\n"
                              "To: bob@example.com\r\n"
                              "Subject: settings\r\n"
                              "\r\n"
                              "Hello.\r\n";

/* The SPF result name of a finished check (a new string). */
static char *spf_result(mailauth_check *check, const mailauth_resolver *zone) {
  mailauth_spf_outcome *outcome = NULL;
  char *name = NULL;
  if (mailauth_check_resolve(check, zone) != MAILAUTH_OK ||
      mailauth_check_spf_outcome(check, &outcome) != MAILAUTH_OK ||
      mailauth_spf_outcome_result_name(outcome, &name) != MAILAUTH_OK)
    name = NULL;
  mailauth_spf_outcome_free(outcome);
  mailauth_check_free(check);
  return name;
}

/* The result of the first signature of `message` (a new string). */
static char *dkim_result(mailauth_dkim_verifier *verifier, const char *message,
                         const mailauth_resolver *zone) {
  mailauth_check *check = NULL;
  mailauth_dkim_outcome *outcome = NULL;
  char *name = NULL;
  if (mailauth_dkim_verifier_feed(verifier, (const uint8_t *)message, strlen(message)) !=
          MAILAUTH_OK ||
      mailauth_dkim_verifier_finish(verifier, &check) != MAILAUTH_OK ||
      mailauth_check_resolve(check, zone) != MAILAUTH_OK ||
      mailauth_check_dkim_outcome(check, &outcome) != MAILAUTH_OK ||
      mailauth_dkim_outcome_result_name(outcome, 0, &name) != MAILAUTH_OK)
    name = NULL;
  mailauth_dkim_outcome_free(outcome);
  mailauth_check_free(check);
  mailauth_dkim_verifier_free(verifier);
  return name;
}

static mailauth_settings *load(const char *text, const char *dir) {
  mailauth_settings *settings = NULL;
  char *error = NULL;
  mailauth_status s = mailauth_settings_load_text(text, dir, &settings, &error);
  CHECK(s == MAILAUTH_OK, "settings %s: %s", text, error ? error : "?");
  mailauth_string_free(error);
  return settings;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: settings EXAMPLES-DATA-DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  char path[4096];
  snprintf(path, sizeof path, "%s/example.zone", dir);
  mailauth_resolver *zone = NULL;
  if (mailauth_resolver_new_zone_file(path, &zone) != MAILAUTH_OK) {
    fprintf(stderr, "cannot load %s\n", path);
    return 2;
  }
  const uint64_t now = 1795000000;

  /* SPF: example.org's record needs 2 DNS terms (its include of
   * example.net): one allowed fails with permerror. */
  mailauth_check *check = NULL;
  mailauth_spf_check_new("192.0.2.25", "mx1.example.org", "alice@example.org", now, &check);
  char *result = spf_result(check, zone);
  CHECK(result && strcmp(result, "pass") == 0, "spf default: %s", result ? result : "?");
  mailauth_string_free(result);
  mailauth_settings *strict = load("[spf]\nmax_dns_mechanisms = 0\n"
                                   "[verify]\nmin_key_bits = 4096\n"
                                   "[signing]\ncanonicalization = \"simple/simple\"\n"
                                   "keys = [{ name = \"k\", domain = \"example.org\", selector = "
                                   "\"sel2026\", key_file = \"keys/sel2026.private\" }]\n"
                                   "rules = [{ pattern = \"*@example.org\", key = \"k\" }]\n"
                                   "[dmarc]\nmode = \"rfc7489\"\n",
                                   dir);
  if (!strict)
    return 1;
  check = NULL;
  CHECK(mailauth_spf_check_new_with_settings(strict, "192.0.2.25", "mx1.example.org",
                                             "alice@example.org", now, &check) == MAILAUTH_OK,
        "spf with settings");
  result = spf_result(check, zone);
  CHECK(result && strcmp(result, "permerror") == 0, "spf with settings: %s",
        result ? result : "?");
  mailauth_string_free(result);

  /* Signing with the settings' table and canonicalization. */
  mailauth_dkim_signing *signing = NULL;
  char *field = NULL;
  CHECK(mailauth_dkim_signing_new_with_settings(strict, now, &signing) == MAILAUTH_OK,
        "signing with settings");
  mailauth_dkim_signing_feed(signing, (const uint8_t *)MESSAGE, strlen(MESSAGE));
  CHECK(mailauth_dkim_signing_finish(signing, &field) == MAILAUTH_OK, "signing finish");
  mailauth_dkim_signing_free(signing);
  CHECK(field && strstr(field, "c=simple/simple") && strstr(field, "s=sel2026"), "signature: %s",
        field ? field : "?");
  size_t len = (field ? strlen(field) : 0) + strlen(MESSAGE) + 1;
  char *signed_message = malloc(len);
  if (!signed_message)
    return 1;
  snprintf(signed_message, len, "%s%s", field ? field : "", MESSAGE);
  mailauth_string_free(field);

  /* DKIM: the 2048-bit signature passes by default, not under a 4096-bit
   * minimum. */
  mailauth_dkim_verifier *verifier = NULL;
  mailauth_dkim_verifier_new(now, &verifier);
  result = dkim_result(verifier, signed_message, zone);
  CHECK(result && strcmp(result, "pass") == 0, "dkim default: %s", result ? result : "?");
  mailauth_string_free(result);
  verifier = NULL;
  CHECK(mailauth_dkim_verifier_new_with_settings(strict, now, &verifier) == MAILAUTH_OK,
        "verifier with settings");
  result = dkim_result(verifier, signed_message, zone);
  CHECK(result && strcmp(result, "pass") != 0, "dkim with settings: %s", result ? result : "?");
  mailauth_string_free(result);

  /* The inbound pipeline with the settings: SPF permerror in its field. */
  mailauth_inbound *inbound = NULL;
  mailauth_inbound_new("192.0.2.25", "mx1.example.org", "alice@example.org", "mx.example.com", now,
                       &inbound);
  CHECK(mailauth_inbound_use_settings(inbound, strict) == MAILAUTH_OK, "inbound use settings");
  mailauth_inbound_feed(inbound, (const uint8_t *)signed_message, strlen(signed_message));
  CHECK(mailauth_inbound_use_settings(inbound, strict) == MAILAUTH_TOO_LATE, "too late");
  check = NULL;
  mailauth_inbound_finish(inbound, &check);
  mailauth_inbound_free(inbound);
  mailauth_inbound_outcome *verdict = NULL;
  char *ar = NULL;
  if (mailauth_check_resolve(check, zone) == MAILAUTH_OK &&
      mailauth_check_inbound_outcome(check, &verdict) == MAILAUTH_OK)
    mailauth_inbound_outcome_authentication_results(verdict, &ar);
  CHECK(ar && strstr(ar, "spf=permerror") && !strstr(ar, "dkim=pass"), "inbound: %s",
        ar ? ar : "?");
  mailauth_string_free(ar);
  mailauth_inbound_outcome_free(verdict);
  mailauth_check_free(check);
  free(signed_message);

  /* DMARC with the settings (RFC 7489 mode): no SPF, no DKIM, p=reject. */
  check = NULL;
  CHECK(mailauth_dmarc_check_new_with_settings(strict, "example.org", NULL, NULL, 0, &check) ==
            MAILAUTH_OK,
        "dmarc with settings");
  mailauth_dmarc_outcome *dmarc = NULL;
  char *name = NULL, *rua = NULL;
  if (mailauth_check_resolve(check, zone) == MAILAUTH_OK &&
      mailauth_check_dmarc_outcome(check, &dmarc) == MAILAUTH_OK) {
    mailauth_dmarc_outcome_result_name(dmarc, &name);
    CHECK(mailauth_dmarc_outcome_record_tag(dmarc, "p", &rua) == MAILAUTH_OK, "record tag p");
    CHECK(rua && strcmp(rua, "reject") == 0, "p=%s", rua ? rua : "?");
    char *bad = NULL;
    CHECK(mailauth_dmarc_outcome_record_tag(dmarc, "x", &bad) == MAILAUTH_INVALID_ARGUMENT,
          "unknown tag");
  }
  CHECK(name && strcmp(name, "fail") == 0, "dmarc: %s", name ? name : "?");
  mailauth_string_free(name);
  mailauth_string_free(rua);
  mailauth_dmarc_outcome_free(dmarc);
  mailauth_check_free(check);

  CHECK(mailauth_spf_check_new_with_settings(NULL, "192.0.2.25", "h", "a@example.org", now,
                                             &check) == MAILAUTH_NULL_PARAMETER,
        "NULL settings");
  mailauth_settings_free(strict);
  mailauth_resolver_free(zone);
  printf("settings: %d of %d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
