/* sign: signs the message on standard input with the key the OpenDKIM
 * tables choose for its From address, and writes the signed message
 * (the DKIM-Signature field, then the message) to standard output.
 *
 *   sign KEY-TABLE [refile:]SIGNING-TABLE < message > signed
 *
 * The message is fed to the library in chunks as it is read; it is also
 * kept, to be written out after the signature. */
#include <mailauth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int fail(const char *what, mailauth_status status) {
  char message[64];
  size_t len;
  if (mailauth_status_message(status, message, sizeof message, &len) != MAILAUTH_OK)
    message[0] = '\0';
  fprintf(stderr, "sign: %s: %s\n", what, message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: sign KEY-TABLE [refile:]SIGNING-TABLE < message\n");
    return 2;
  }
  mailauth_signing_table *table = NULL;
  mailauth_dkim_signing *signing = NULL;
  char *field = NULL, *message = NULL;
  size_t length = 0, capacity = 0;
  int exit_code = 1;
  mailauth_status s = mailauth_signing_table_load_opendkim(argv[1], argv[2], &table);
  if (s != MAILAUTH_OK) return fail("loading the tables", s);
  s = mailauth_dkim_signing_new(table, (uint64_t)time(NULL), &signing);
  if (s != MAILAUTH_OK) { exit_code = fail("starting", s); goto out; }

  for (;;) {
    if (capacity - length < 4096) {
      char *bigger = realloc(message, capacity * 2 + 4096);
      if (bigger == NULL) { fprintf(stderr, "sign: out of memory\n"); goto out; }
      message = bigger;
      capacity = capacity * 2 + 4096;
    }
    size_t n = fread(message + length, 1, 4096, stdin);
    if (n == 0) break;
    s = mailauth_dkim_signing_feed(signing, (const uint8_t *)message + length, n);
    if (s != MAILAUTH_OK) { exit_code = fail("reading", s); goto out; }
    length += n;
  }
  s = mailauth_dkim_signing_finish(signing, &field);
  if (s != MAILAUTH_OK) { exit_code = fail("signing", s); goto out; }

  /* The field ends lines with CRLF; follow the message's own line ending. */
  char *newline = memchr(message, '\n', length);
  int crlf = newline != NULL && newline > message && newline[-1] == '\r';
  for (const char *c = field; *c != '\0'; c++)
    if (crlf || *c != '\r') putchar(*c);
  fwrite(message, 1, length, stdout);
  exit_code = 0;
out:
  mailauth_string_free(field);
  free(message);
  mailauth_dkim_signing_free(signing);
  mailauth_signing_table_free(table);
  return exit_code;
}
