/* authenticate: what a receiving MTA does with a message: SPF, DKIM and
 * DMARC through the inbound pipeline, answered from a zone file, then the
 * Authentication-Results field to prepend and DMARC's disposition.
 *
 *   authenticate ZONE-FILE CLIENT-IP HELO MAIL-FROM [NOW] < message
 *
 * NOW is the time in seconds since the Unix epoch (default: the clock).
 * Exits 0 when the disposition is none, 1 for quarantine or reject, 2 on
 * error. */
#include <mailauth.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: authenticate ZONE-FILE CLIENT-IP HELO MAIL-FROM [NOW] < message\n");
    return 2;
  }
  uint64_t now = argc == 6 ? strtoull(argv[5], NULL, 10) : (uint64_t)time(NULL);
  mailauth_resolver *zone = NULL;
  mailauth_inbound *inbound = NULL;
  mailauth_check *check = NULL;
  mailauth_inbound_outcome *verdict = NULL;
  char *field = NULL;
  int exit_code = 2;
  mailauth_status s;

  if ((s = mailauth_resolver_new_zone_file(argv[1], &zone)) != MAILAUTH_OK ||
      (s = mailauth_inbound_new(argv[2], argv[3], argv[4], "mx.example.com", now, &inbound)) !=
          MAILAUTH_OK)
    goto out;

  uint8_t chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
    if ((s = mailauth_inbound_feed(inbound, chunk, n)) != MAILAUTH_OK) goto out;

  mailauth_disposition disposition;
  if ((s = mailauth_inbound_finish(inbound, &check)) != MAILAUTH_OK ||
      (s = mailauth_check_resolve(check, zone)) != MAILAUTH_OK ||
      (s = mailauth_check_inbound_outcome(check, &verdict)) != MAILAUTH_OK ||
      (s = mailauth_inbound_outcome_authentication_results(verdict, &field)) != MAILAUTH_OK ||
      (s = mailauth_inbound_outcome_disposition(verdict, &disposition)) != MAILAUTH_OK)
    goto out;

  printf("%s\n", field);
  printf("disposition: %s\n", disposition == MAILAUTH_DISPOSITION_REJECT       ? "reject"
                              : disposition == MAILAUTH_DISPOSITION_QUARANTINE ? "quarantine"
                                                                               : "none");
  exit_code = disposition == MAILAUTH_DISPOSITION_NONE ? 0 : 1;
out:
  if (exit_code == 2) {
    char message[64];
    size_t len;
    if (mailauth_status_message(s, message, sizeof message, &len) == MAILAUTH_OK)
      fprintf(stderr, "authenticate: %s\n", message);
  }
  mailauth_string_free(field);
  mailauth_inbound_outcome_free(verdict);
  mailauth_check_free(check);
  mailauth_inbound_free(inbound);
  mailauth_resolver_free(zone);
  return exit_code;
}
