/* spf: an spfquery in C. Checks MAIL FROM (HELO when no MAIL-FROM is
 * given) against a zone file or a name server, prints the result, the
 * reason and the Received-SPF field; exits 0 for pass, 1 for any other
 * result, 2 on error.   spf ZONE-FILE|@SERVER CLIENT-IP HELO [MAIL-FROM] */
#include <mailauth.h>
#include <stdio.h>
#include <time.h>

static int fail(const char *what, mailauth_status status) {
  char message[64];
  size_t len;
  if (mailauth_status_message(status, message, sizeof message, &len) != MAILAUTH_OK)
    message[0] = '\0';
  fprintf(stderr, "spf: %s: %s\n", what, message);
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: spf ZONE-FILE|@SERVER CLIENT-IP HELO [MAIL-FROM]\n");
    return 2;
  }
  mailauth_resolver *resolver = NULL;
  mailauth_check *check = NULL;
  mailauth_spf_outcome *outcome = NULL;
  char *result = NULL, *reason = NULL, *field = NULL;
  int exit_code = 2;
  mailauth_status s;
  const char *server = argv[1] + 1;
  if (argv[1][0] == '@')
    s = mailauth_resolver_new_stub(&server, 1, 2000, &resolver);
  else
    s = mailauth_resolver_new_zone_file(argv[1], &resolver);
  if (s != MAILAUTH_OK) return fail("resolver", s);
  if (argc == 5)
    s = mailauth_spf_check_new(argv[2], argv[3], argv[4], (uint64_t)time(NULL), &check);
  else
    s = mailauth_spf_check_new_helo(argv[2], argv[3], (uint64_t)time(NULL), &check);
  if (s != MAILAUTH_OK) { exit_code = fail("arguments", s); goto out; }
  if ((s = mailauth_check_resolve(check, resolver)) != MAILAUTH_OK ||
      (s = mailauth_check_spf_outcome(check, &outcome)) != MAILAUTH_OK ||
      (s = mailauth_spf_outcome_result_name(outcome, &result)) != MAILAUTH_OK ||
      (s = mailauth_spf_outcome_reason(outcome, &reason)) != MAILAUTH_OK ||
      (s = mailauth_spf_outcome_received_spf(outcome, "mx.example.com", &field)) != MAILAUTH_OK) {
    exit_code = fail("check", s);
    goto out;
  }
  printf("%s\n%s\n%s\n", result, reason, field);
  mailauth_spf_result code;
  mailauth_spf_outcome_result(outcome, &code);
  exit_code = code == MAILAUTH_SPF_PASS ? 0 : 1;
out:
  mailauth_string_free(result);
  mailauth_string_free(reason);
  mailauth_string_free(field);
  mailauth_spf_outcome_free(outcome);
  mailauth_check_free(check);
  mailauth_resolver_free(resolver);
  return exit_code;
}
