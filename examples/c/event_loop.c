/* event_loop: checks SPF and the DKIM signatures of the message on standard
 * input through the library's poll/supply interface, with a DNS client of
 * its own: every query the checks need is sent at once over UDP to one name
 * server, and the raw response packets are handed to the library as they
 * arrive, multiplexed with poll(2). An MTA plugs its own event loop and
 * resolver in the same way.
 *
 *   event_loop SERVER-IP PORT CLIENT-IP HELO MAIL-FROM < message
 */
#define _POSIX_C_SOURCE 200809L
#include <mailauth.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_IN_FLIGHT 64
#define TIMEOUT_MS 3000

struct flight {
  mailauth_check *check;
  size_t index; /* of the query in the check's last poll */
  uint16_t id;  /* DNS message ID */
  int answered;
};

/* Sends the queries every unfinished check needs now. Returns how many are
 * in flight (0 when every check has finished), or -1 on error. */
static int send_queries(mailauth_check **checks, size_t n_checks, int sock,
                        struct flight *flights, uint16_t *next_id) {
  int n = 0;
  for (size_t c = 0; c < n_checks; c++) {
    size_t count;
    if (mailauth_check_poll(checks[c], &count) != MAILAUTH_OK) return -1;
    for (size_t i = 0; i < count && n < MAX_IN_FLIGHT; i++) {
      uint8_t packet[512];
      size_t len;
      uint16_t id = (*next_id)++;
      if (mailauth_check_query_packet(checks[c], i, id, packet, sizeof packet, &len) != MAILAUTH_OK)
        return -1;
      if (send(sock, packet, len, 0) < 0) return -1;
      flights[n++] = (struct flight){checks[c], i, id, 0};
    }
  }
  return n;
}

/* Waits for the answers of one round, supplying each packet as it comes. */
static int receive_answers(int sock, struct flight *flights, int n) {
  int open = n;
  struct pollfd pfd = {.fd = sock, .events = POLLIN};
  while (open > 0) {
    int ready = poll(&pfd, 1, TIMEOUT_MS);
    if (ready < 0) return -1;
    if (ready == 0) { /* timeout: the rest fail temporarily */
      for (int f = 0; f < n; f++)
        if (!flights[f].answered)
          mailauth_check_supply_status(flights[f].check, flights[f].index, MAILAUTH_DNS_TEMPFAIL);
      return 0;
    }
    uint8_t packet[4096];
    ssize_t len = recv(sock, packet, sizeof packet, 0);
    if (len < 12) continue;
    uint16_t id = (uint16_t)(packet[0] << 8 | packet[1]);
    for (int f = 0; f < n; f++) {
      if (flights[f].answered || flights[f].id != id) continue;
      mailauth_status s = mailauth_check_supply_packet(flights[f].check, flights[f].index,
                                                       packet, (size_t)len);
      if (s == MAILAUTH_DNS_TRUNCATED || s == MAILAUTH_DNS_MALFORMED)
        /* A full client would ask again over TCP here. */
        mailauth_check_supply_status(flights[f].check, flights[f].index, MAILAUTH_DNS_TEMPFAIL);
      flights[f].answered = 1;
      open--;
    }
  }
  return 0;
}

static void print_results(mailauth_check *spf, mailauth_check *dkim) {
  mailauth_spf_outcome *spf_outcome = NULL;
  mailauth_dkim_outcome *dkim_outcome = NULL;
  char *text = NULL;
  if (mailauth_check_spf_outcome(spf, &spf_outcome) == MAILAUTH_OK &&
      mailauth_spf_outcome_result_name(spf_outcome, &text) == MAILAUTH_OK)
    printf("spf=%s\n", text);
  mailauth_string_free(text);
  mailauth_spf_outcome_free(spf_outcome);

  size_t count = 0;
  if (mailauth_check_dkim_outcome(dkim, &dkim_outcome) == MAILAUTH_OK &&
      mailauth_dkim_outcome_count(dkim_outcome, &count) == MAILAUTH_OK && count == 0)
    printf("dkim=none\n");
  for (size_t i = 0; i < count; i++) {
    char *result = NULL, *domain = NULL, *selector = NULL, *reason = NULL;
    mailauth_dkim_outcome_result_name(dkim_outcome, i, &result);
    mailauth_dkim_outcome_domain(dkim_outcome, i, &domain);
    mailauth_dkim_outcome_selector(dkim_outcome, i, &selector);
    mailauth_dkim_outcome_reason(dkim_outcome, i, &reason); /* absent for a pass */
    printf("dkim=%s header.d=%s header.s=%s%s%s\n", result ? result : "?",
           domain ? domain : "?", selector ? selector : "?", reason ? " reason=" : "",
           reason ? reason : "");
    mailauth_string_free(result);
    mailauth_string_free(domain);
    mailauth_string_free(selector);
    mailauth_string_free(reason);
  }
  mailauth_dkim_outcome_free(dkim_outcome);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: event_loop SERVER-IP PORT CLIENT-IP HELO MAIL-FROM < message\n");
    return 2;
  }
  int exit_code = 1;
  uint64_t now = (uint64_t)time(NULL);
  mailauth_dkim_verifier *verifier = NULL;
  mailauth_check *checks[2] = {NULL, NULL};
  struct flight flights[MAX_IN_FLIGHT];
  uint16_t next_id = (uint16_t)(now & 0xffff);

  struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  int sock = socket(AF_INET, SOCK_DGRAM, 0);
  if (sock < 0 || inet_pton(AF_INET, argv[1], &server.sin_addr) != 1 ||
      connect(sock, (struct sockaddr *)&server, sizeof server) < 0) {
    fprintf(stderr, "event_loop: cannot reach %s:%s\n", argv[1], argv[2]);
    goto out;
  }

  /* The SPF check needs only the connection facts; the DKIM check needs
   * the whole message first. */
  if (mailauth_spf_check_new(argv[3], argv[4], argv[5], now, &checks[0]) != MAILAUTH_OK ||
      mailauth_dkim_verifier_new(now, &verifier) != MAILAUTH_OK) {
    fprintf(stderr, "event_loop: bad arguments\n");
    goto out;
  }
  uint8_t chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
    mailauth_dkim_verifier_feed(verifier, chunk, n);
  if (mailauth_dkim_verifier_finish(verifier, &checks[1]) != MAILAUTH_OK) goto out;

  for (;;) {
    int in_flight = send_queries(checks, 2, sock, flights, &next_id);
    if (in_flight < 0) { fprintf(stderr, "event_loop: dns error\n"); goto out; }
    if (in_flight == 0) break; /* both checks have finished */
    if (receive_answers(sock, flights, in_flight) < 0) goto out;
  }
  print_results(checks[0], checks[1]);
  exit_code = 0;
out:
  if (sock >= 0) close(sock);
  mailauth_check_free(checks[0]);
  mailauth_check_free(checks[1]);
  mailauth_dkim_verifier_free(verifier);
  return exit_code;
}
