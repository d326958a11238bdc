/* ARC through the C API: validation of a chain sealed by the Rust core,
 * tampering, sealing two hops with the C API and validating them, a
 * trusted sealer setting a DMARC failure aside in the inbound pipeline,
 * and misuse (NULL handles, wrong kinds, indexes out of range, calls out of
 * order).
 *
 * Usage: arc ZONE_FILE KEY_PEM CORE_SEALED_MESSAGE OUTPUT
 * The zone holds the ARC keys (arc._domainkey of example.net and
 * example.com, the key in KEY_PEM) beside example.org's SPF and DMARC
 * reject policy. The message sealed twice with the C API is written to
 * OUTPUT for the test harness to validate with the core.
 * Prints "arc: N checks passed" and exits 0, or names each failure. */
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

/* A sentinel that out parameters must keep when a call fails. */
static int sentinel_object;
#define SENTINEL ((void *)&sentinel_object)

static const char ORIGINAL[] =
    "From: Alice <alice@example.org>\r\n"
    "To: list@lists.example.net\r\n"
    "Subject: [list] ARC from C\r\n"
    "Date: Sat, 14 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <arc-c@example.org>\r\n"
    "\r\n"
    "Hello through the list.\r\n";

static const char HOP1_RESULTS[] =
    "lists.example.net; spf=pass smtp.mailfrom=alice@example.org;"
    " dkim=none; dmarc=pass header.from=example.org";

static const char MX_RESULTS_FIELD[] =
    "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.org;\r\n"
    " arc=pass header.oldest-pass=0\r\n";

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) *len = n;
  return buf;
}

/* `a` followed by `b`, a new buffer. */
static char *concat(const char *a, const char *b, size_t b_len, size_t *len) {
  size_t a_len = strlen(a);
  char *out = malloc(a_len + b_len + 1);
  if (!out) return NULL;
  memcpy(out, a, a_len);
  memcpy(out + a_len, b, b_len);
  out[a_len + b_len] = '\0';
  *len = a_len + b_len;
  return out;
}

/* Validates `message` with the zone; NULL when a call failed. */
static mailauth_arc_outcome *validate(const mailauth_resolver *resolver, const char *message,
                                      size_t len) {
  mailauth_arc_validator *validator = NULL;
  mailauth_check *check = NULL;
  mailauth_arc_outcome *outcome = NULL;
  EXPECT(mailauth_arc_validator_new(&validator), MAILAUTH_OK);
  /* In two chunks, split inside the header. */
  size_t half = len / 3;
  EXPECT(mailauth_arc_validator_feed(validator, (const uint8_t *)message, half), MAILAUTH_OK);
  EXPECT(mailauth_arc_validator_feed(validator, (const uint8_t *)message + half, len - half),
         MAILAUTH_OK);
  EXPECT(mailauth_arc_validator_finish(validator, &check), MAILAUTH_OK);
  EXPECT(mailauth_arc_validator_finish(validator, &check), MAILAUTH_ALREADY_FINISHED);
  EXPECT(mailauth_arc_validator_feed(validator, (const uint8_t *)"x", 1),
         MAILAUTH_ALREADY_FINISHED);
  mailauth_arc_validator_free(validator);
  if (check) {
    EXPECT(mailauth_check_resolve(check, resolver), MAILAUTH_OK);
    EXPECT(mailauth_check_arc_outcome(check, &outcome), MAILAUTH_OK);
    mailauth_check_free(check);
  }
  return outcome;
}

static mailauth_arc_result result_of(const mailauth_arc_outcome *outcome) {
  mailauth_arc_result result = (mailauth_arc_result)99;
  EXPECT(mailauth_arc_outcome_result(outcome, &result), MAILAUTH_OK);
  return result;
}

static size_t sets_of(const mailauth_arc_outcome *outcome) {
  size_t sets = 999;
  EXPECT(mailauth_arc_outcome_sets(outcome, &sets), MAILAUTH_OK);
  return sets;
}

static int string_is(char *s, const char *expected) {
  int same = s != NULL && strcmp(s, expected) == 0;
  if (!same) fprintf(stderr, "  got \"%s\", expected \"%s\"\n", s ? s : "(null)", expected);
  mailauth_string_free(s);
  return same;
}

/* The outcome of the chain the core sealed: example.net then example.com. */
static void core_sealed_chain(const mailauth_resolver *resolver, const char *message, size_t len) {
  mailauth_arc_outcome *outcome = validate(resolver, message, len);
  TRUE_THAT(outcome != NULL);
  if (!outcome) return;
  TRUE_THAT(result_of(outcome) == MAILAUTH_ARC_PASS);
  char *s = NULL;
  EXPECT(mailauth_arc_outcome_result_name(outcome, &s), MAILAUTH_OK);
  TRUE_THAT(string_is(s, "pass"));
  s = SENTINEL;
  EXPECT(mailauth_arc_outcome_reason(outcome, &s), MAILAUTH_ABSENT);
  TRUE_THAT(s == SENTINEL);
  EXPECT(mailauth_arc_outcome_header_error(outcome, &s), MAILAUTH_ABSENT);
  TRUE_THAT(s == SENTINEL);
  TRUE_THAT(sets_of(outcome) == 2);
  /* Two sets: header.oldest-pass is not computed by default (it costs a
     signature check per older set). */
  uint32_t oldest = 77;
  EXPECT(mailauth_arc_outcome_oldest_pass(outcome, &oldest), MAILAUTH_ABSENT);
  TRUE_THAT(oldest == 77);
  size_t count = 0;
  EXPECT(mailauth_arc_outcome_instance_count(outcome, &count), MAILAUTH_OK);
  TRUE_THAT(count == 2);
  static const char *const domains[2] = {"example.net", "example.com"};
  for (size_t i = 0; i < 2 && i < count; i++) {
    uint32_t instance = 0;
    EXPECT(mailauth_arc_outcome_set_instance(outcome, i, &instance), MAILAUTH_OK);
    TRUE_THAT(instance == i + 1);
    EXPECT(mailauth_arc_outcome_set_seal_domain(outcome, i, &s), MAILAUTH_OK);
    TRUE_THAT(string_is(s, domains[i]));
    EXPECT(mailauth_arc_outcome_set_signature_domain(outcome, i, &s), MAILAUTH_OK);
    TRUE_THAT(string_is(s, domains[i]));
    EXPECT(mailauth_arc_outcome_set_seal_selector(outcome, i, &s), MAILAUTH_OK);
    TRUE_THAT(string_is(s, "arc"));
    EXPECT(mailauth_arc_outcome_set_signature_selector(outcome, i, &s), MAILAUTH_OK);
    TRUE_THAT(string_is(s, "arc"));
    mailauth_arc_result cv = (mailauth_arc_result)99;
    EXPECT(mailauth_arc_outcome_set_chain_status(outcome, i, &cv), MAILAUTH_OK);
    TRUE_THAT(cv == (i == 0 ? MAILAUTH_ARC_NONE : MAILAUTH_ARC_PASS));
  }
  uint32_t instance = 5;
  EXPECT(mailauth_arc_outcome_set_instance(outcome, 2, &instance), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(instance == 5);
  s = SENTINEL;
  EXPECT(mailauth_arc_outcome_set_seal_domain(outcome, 2, &s), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(s == SENTINEL);
  mailauth_arc_outcome_free(outcome);

  /* The body changed after the last seal: the newest
   * ARC-Message-Signature no longer validates. */
  char *tampered = malloc(len + 1);
  if (!tampered) return;
  memcpy(tampered, message, len);
  tampered[len] = '\0';
  char *body = strstr(tampered, "\r\n\r\n");
  TRUE_THAT(body != NULL);
  if (body && body + 4 < tampered + len) body[4] ^= 0x20;
  outcome = validate(resolver, tampered, len);
  free(tampered);
  if (!outcome) return;
  TRUE_THAT(result_of(outcome) == MAILAUTH_ARC_FAIL);
  EXPECT(mailauth_arc_outcome_result_name(outcome, &s), MAILAUTH_OK);
  TRUE_THAT(string_is(s, "fail"));
  s = NULL;
  EXPECT(mailauth_arc_outcome_reason(outcome, &s), MAILAUTH_OK);
  TRUE_THAT(s != NULL && strlen(s) > 0);
  mailauth_string_free(s);
  oldest = 77;
  EXPECT(mailauth_arc_outcome_oldest_pass(outcome, &oldest), MAILAUTH_ABSENT);
  TRUE_THAT(oldest == 77);
  TRUE_THAT(sets_of(outcome) == 2);
  mailauth_arc_outcome_free(outcome);
}

/* Seals `message` with `sealer` after `chain`; `results` may be NULL.
 * Returns the sealed message (a new buffer) or NULL. */
static char *seal(const mailauth_arc_sealer *sealer, const char *message, size_t len,
                  const mailauth_arc_outcome *chain, const char *results, uint32_t instance,
                  size_t *sealed_len) {
  mailauth_arc_sealing *sealing = NULL;
  mailauth_arc_set *set = NULL;
  EXPECT(mailauth_arc_sealing_new(sealer, 1795000000, &sealing), MAILAUTH_OK);
  EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)message, len / 2), MAILAUTH_OK);
  EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)message + len / 2, len - len / 2),
         MAILAUTH_OK);
  EXPECT(mailauth_arc_sealing_finish(sealing, chain, results, &set), MAILAUTH_OK);
  mailauth_arc_set *again = SENTINEL;
  EXPECT(mailauth_arc_sealing_finish(sealing, chain, results, &again), MAILAUTH_ALREADY_FINISHED);
  TRUE_THAT(again == SENTINEL);
  EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)"x", 1), MAILAUTH_ALREADY_FINISHED);
  mailauth_arc_sealing_free(sealing);
  if (!set) return NULL;

  uint32_t got = 0;
  EXPECT(mailauth_arc_set_instance(set, &got), MAILAUTH_OK);
  TRUE_THAT(got == instance);
  static const char *const names[3] = {"ARC-Authentication-Results", "ARC-Message-Signature",
                                       "ARC-Seal"};
  char *s = NULL;
  for (size_t i = 0; i < 3; i++) {
    EXPECT(mailauth_arc_set_field_name(set, i, &s), MAILAUTH_OK);
    TRUE_THAT(string_is(s, names[i]));
    s = NULL;
    EXPECT(mailauth_arc_set_field_value(set, i, &s), MAILAUTH_OK);
    char tag[8];
    snprintf(tag, sizeof tag, "i=%u;", (unsigned)instance);
    /* The AAR starts with its instance; the others carry it among their
     * tags. */
    TRUE_THAT(s != NULL && (i == 0 ? strncmp(s, tag, strlen(tag)) == 0 : strstr(s, tag) != NULL));
    mailauth_string_free(s);
  }
  s = SENTINEL;
  EXPECT(mailauth_arc_set_field_name(set, 3, &s), MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_arc_set_field_value(set, 3, &s), MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(s == SENTINEL);

  char *lines = NULL;
  char *sealed = NULL;
  EXPECT(mailauth_arc_set_header_lines(set, &lines), MAILAUTH_OK);
  if (lines) {
    TRUE_THAT(strncmp(lines, "ARC-Seal: ", 10) == 0);
    sealed = concat(lines, message, len, sealed_len);
    mailauth_string_free(lines);
  }
  mailauth_arc_set_free(set);
  return sealed;
}

/* The AAR of the newest set of `message` (its first field, ARC-Seal then
 * ARC-Message-Signature then ARC-Authentication-Results) contains `text`. */
static int aar_contains(const char *message, const char *text) {
  const char *aar = strstr(message, "ARC-Authentication-Results: ");
  const char *end = aar ? strstr(aar, "\r\nARC-") : NULL;
  const char *found = aar ? strstr(aar, text) : NULL;
  return found != NULL && (end == NULL || found < end);
}

/* Two hops sealed through the C API, the second from the message's own
 * Authentication-Results; writes the result to `output`. */
static char *sealed_by_c(const mailauth_resolver *resolver, const uint8_t *key, size_t key_len,
                         const char *output, size_t *hop1_len) {
  mailauth_arc_sealer *list = NULL, *mx = NULL;
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", key, key_len, "lists.example.net", &list),
         MAILAUTH_OK);
  EXPECT(mailauth_arc_sealer_new("example.com", "arc", key, key_len, "mx.example.com", &mx),
         MAILAUTH_OK);
  if (!list || !mx) {
    mailauth_arc_sealer_free(list);
    mailauth_arc_sealer_free(mx);
    return NULL;
  }

  /* Hop 1: no ARC set yet. */
  mailauth_arc_outcome *chain = validate(resolver, ORIGINAL, strlen(ORIGINAL));
  char *hop1 = NULL;
  if (chain) {
    TRUE_THAT(result_of(chain) == MAILAUTH_ARC_NONE);
    TRUE_THAT(sets_of(chain) == 0);
    size_t count = 9;
    EXPECT(mailauth_arc_outcome_instance_count(chain, &count), MAILAUTH_OK);
    TRUE_THAT(count == 0);
    uint32_t oldest = 77;
    EXPECT(mailauth_arc_outcome_oldest_pass(chain, &oldest), MAILAUTH_ABSENT);
    TRUE_THAT(oldest == 77);
    /* The results given as a whole field, name included. */
    char field[512];
    snprintf(field, sizeof field, "Authentication-Results: %s", HOP1_RESULTS);
    hop1 = seal(list, ORIGINAL, strlen(ORIGINAL), chain, field, 1, hop1_len);
    mailauth_arc_outcome_free(chain);
  }
  TRUE_THAT(hop1 != NULL);
  if (!hop1) {
    mailauth_arc_sealer_free(list);
    mailauth_arc_sealer_free(mx);
    return NULL;
  }
  TRUE_THAT(aar_contains(hop1, "i=1; lists.example.net;"));
  TRUE_THAT(aar_contains(hop1, "dmarc=pass"));

  /* Hop 2: the MX records the Authentication-Results it added. */
  size_t with_ar_len = 0;
  char *with_ar = concat(MX_RESULTS_FIELD, hop1, *hop1_len, &with_ar_len);
  char *hop2 = NULL;
  size_t hop2_len = 0;
  if (with_ar) {
    chain = validate(resolver, with_ar, with_ar_len);
    if (chain) {
      TRUE_THAT(result_of(chain) == MAILAUTH_ARC_PASS);
      TRUE_THAT(sets_of(chain) == 1);

      /* The outcome of another message (no sets) does not fit this one. */
      mailauth_arc_outcome *none = validate(resolver, ORIGINAL, strlen(ORIGINAL));
      mailauth_arc_sealing *sealing = NULL;
      mailauth_arc_set *set = SENTINEL;
      EXPECT(mailauth_arc_sealing_new(mx, 1795000100, &sealing), MAILAUTH_OK);
      EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)with_ar, with_ar_len),
             MAILAUTH_OK);
      EXPECT(mailauth_arc_sealing_finish(sealing, none, NULL, &set), MAILAUTH_INVALID_ARGUMENT);
      TRUE_THAT(set == SENTINEL);
      mailauth_arc_sealing_free(sealing);
      mailauth_arc_outcome_free(none);

      hop2 = seal(mx, with_ar, with_ar_len, chain, NULL, 2, &hop2_len);
      mailauth_arc_outcome_free(chain);
    }
    free(with_ar);
  }
  TRUE_THAT(hop2 != NULL);
  if (hop2) {
    TRUE_THAT(aar_contains(hop2, "i=2; mx.example.com;"));
    TRUE_THAT(aar_contains(hop2, "spf=fail"));
    mailauth_arc_outcome *outcome = validate(resolver, hop2, hop2_len);
    if (outcome) {
      TRUE_THAT(result_of(outcome) == MAILAUTH_ARC_PASS);
      TRUE_THAT(sets_of(outcome) == 2);
      mailauth_arc_outcome_free(outcome);
    }
    FILE *f = fopen(output, "wb");
    TRUE_THAT(f != NULL);
    if (f) {
      TRUE_THAT(fwrite(hop2, 1, hop2_len, f) == hop2_len);
      fclose(f);
    }

    /* A chain found failing is sealed with cv=fail; a chain whose newest
     * seal says cv=fail gets no new set. */
    hop2[hop2_len - 3] ^= 0x20;
    mailauth_arc_outcome *failed = validate(resolver, hop2, hop2_len);
    if (failed) {
      TRUE_THAT(result_of(failed) == MAILAUTH_ARC_FAIL);
      size_t hop3_len = 0;
      char *hop3 = seal(list, hop2, hop2_len, failed, HOP1_RESULTS, 3, &hop3_len);
      mailauth_arc_outcome_free(failed);
      TRUE_THAT(hop3 != NULL && strstr(hop3, "cv=fail") != NULL);
      if (hop3) {
        failed = validate(resolver, hop3, hop3_len);
        if (failed) {
          TRUE_THAT(result_of(failed) == MAILAUTH_ARC_FAIL);
          TRUE_THAT(sets_of(failed) == 3);
          mailauth_arc_sealing *sealing = NULL;
          mailauth_arc_set *set = SENTINEL;
          EXPECT(mailauth_arc_sealing_new(list, 1795000200, &sealing), MAILAUTH_OK);
          EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)hop3, hop3_len),
                 MAILAUTH_OK);
          EXPECT(mailauth_arc_sealing_finish(sealing, failed, HOP1_RESULTS, &set),
                 MAILAUTH_ARC_CHAIN_FAILED);
          TRUE_THAT(set == SENTINEL);
          mailauth_arc_sealing_free(sealing);
          mailauth_arc_outcome_free(failed);
        }
        free(hop3);
      }
    }
    free(hop2);
  }
  mailauth_arc_sealer_free(list);
  mailauth_arc_sealer_free(mx);
  return hop1;
}

/* The inbound pipeline on the message the list sealed and relayed from an
 * address example.org's SPF does not allow: DMARC fails, and a trusted
 * sealer's dmarc=pass sets the reject policy aside. */
static void inbound(const mailauth_resolver *resolver, const char *hop1, size_t hop1_len,
                    int trusted) {
  mailauth_inbound *in = NULL;
  mailauth_check *check = NULL;
  mailauth_inbound_outcome *verdict = NULL;
  EXPECT(mailauth_inbound_new("192.0.2.99", "lists.example.net", "alice@example.org",
                              "mx.example.com", 1795000000, &in),
         MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_arc(in, true), MAILAUTH_OK);
  EXPECT(mailauth_inbound_add_trusted_arc_sealer(in, "exa..mple"), MAILAUTH_INVALID_ARGUMENT);
  if (trusted) EXPECT(mailauth_inbound_add_trusted_arc_sealer(in, "example.net"), MAILAUTH_OK);
  EXPECT(mailauth_inbound_feed(in, (const uint8_t *)hop1, hop1_len), MAILAUTH_OK);
  EXPECT(mailauth_inbound_set_arc(in, false), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_add_trusted_arc_sealer(in, "example.com"), MAILAUTH_TOO_LATE);
  EXPECT(mailauth_inbound_finish(in, &check), MAILAUTH_OK);
  mailauth_inbound_free(in);
  if (!check) return;
  EXPECT(mailauth_check_resolve(check, resolver), MAILAUTH_OK);
  EXPECT(mailauth_check_inbound_outcome(check, &verdict), MAILAUTH_OK);
  mailauth_arc_outcome *wrong = SENTINEL;
  EXPECT(mailauth_check_arc_outcome(check, &wrong), MAILAUTH_WRONG_KIND);
  TRUE_THAT(wrong == SENTINEL);
  mailauth_check_free(check);
  if (!verdict) return;

  mailauth_arc_outcome *arc = NULL;
  EXPECT(mailauth_inbound_outcome_arc(verdict, &arc), MAILAUTH_OK);
  if (arc) {
    TRUE_THAT(result_of(arc) == MAILAUTH_ARC_PASS);
    TRUE_THAT(sets_of(arc) == 1);
    mailauth_arc_outcome_free(arc);
  }
  char *field = NULL;
  EXPECT(mailauth_inbound_outcome_authentication_results(verdict, &field), MAILAUTH_OK);
  TRUE_THAT(field != NULL && strstr(field, "arc=pass") != NULL);
  mailauth_string_free(field);

  mailauth_dmarc_outcome *dmarc = NULL;
  EXPECT(mailauth_inbound_outcome_dmarc(verdict, &dmarc), MAILAUTH_OK);
  mailauth_disposition disposition = (mailauth_disposition)99;
  EXPECT(mailauth_inbound_outcome_disposition(verdict, &disposition), MAILAUTH_OK);
  if (dmarc) {
    mailauth_dmarc_result result = (mailauth_dmarc_result)99;
    EXPECT(mailauth_dmarc_outcome_result(dmarc, &result), MAILAUTH_OK);
    TRUE_THAT(result == MAILAUTH_DMARC_FAIL);
    char *kind = SENTINEL, *comment = SENTINEL;
    if (trusted) {
      TRUE_THAT(disposition == MAILAUTH_DISPOSITION_NONE);
      EXPECT(mailauth_dmarc_outcome_override_type(dmarc, &kind), MAILAUTH_OK);
      TRUE_THAT(kind != SENTINEL && string_is(kind, "local_policy"));
      EXPECT(mailauth_dmarc_outcome_override_comment(dmarc, &comment), MAILAUTH_OK);
      TRUE_THAT(comment != SENTINEL &&
                string_is(comment, "arc=pass as[1].d=example.net as[1].s=arc"));
    } else {
      TRUE_THAT(disposition == MAILAUTH_DISPOSITION_REJECT);
      EXPECT(mailauth_dmarc_outcome_override_type(dmarc, &kind), MAILAUTH_ABSENT);
      EXPECT(mailauth_dmarc_outcome_override_comment(dmarc, &comment), MAILAUTH_ABSENT);
      TRUE_THAT(kind == SENTINEL && comment == SENTINEL);
    }
    mailauth_dmarc_outcome_free(dmarc);
  }
  mailauth_inbound_outcome_free(verdict);
}

/* Every new function with NULL where a pointer is required. */
static void misuse(const mailauth_resolver *resolver, const uint8_t *key, size_t key_len) {
  mailauth_arc_validator *validator = SENTINEL;
  mailauth_check *check = SENTINEL;
  mailauth_arc_outcome *outcome = SENTINEL;
  mailauth_arc_sealer *sealer = SENTINEL;
  mailauth_arc_sealing *sealing = SENTINEL;
  mailauth_arc_set *set = SENTINEL;
  char *s = SENTINEL;
  size_t n = 7;
  uint32_t u = 7;
  mailauth_arc_result r = (mailauth_arc_result)7;

  EXPECT(mailauth_arc_validator_new(NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_validator_new_with_settings(NULL, &validator), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_validator_feed(NULL, (const uint8_t *)"x", 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_validator_finish(NULL, &check), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_check_arc_outcome(NULL, &outcome), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_result(NULL, &r), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_result_name(NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_reason(NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_sets(NULL, &n), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_oldest_pass(NULL, &u), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_header_error(NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_instance_count(NULL, &n), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_instance(NULL, 0, &u), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_seal_domain(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_seal_selector(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_signature_domain(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_signature_selector(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_outcome_set_chain_status(NULL, 0, &r), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new(NULL, "arc", key, key_len, "mx", &sealer),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new("example.net", NULL, key, key_len, "mx", &sealer),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", NULL, key_len, "mx", &sealer),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", key, key_len, NULL, &sealer),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", key, key_len, "mx", NULL),
         MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealer_new_with_settings(NULL, &sealer), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealing_new(NULL, 0, &sealing), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealing_feed(NULL, (const uint8_t *)"x", 1), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_set_instance(NULL, &u), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_set_field_name(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_set_field_value(NULL, 0, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_set_header_lines(NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_set_arc(NULL, true), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_add_trusted_arc_sealer(NULL, "example.net"), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_inbound_outcome_arc(NULL, &outcome), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dmarc_outcome_override_type(NULL, &s), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_dmarc_outcome_override_comment(NULL, &s), MAILAUTH_NULL_PARAMETER);

  /* Bad arguments. */
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", (const uint8_t *)"not a key", 9, "mx",
                                 &sealer),
         MAILAUTH_KEY_INVALID);
  EXPECT(mailauth_arc_sealer_new("-bad-.", "arc", key, key_len, "mx", &sealer),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_arc_sealer_new("example.net", "a b", key, key_len, "mx", &sealer),
         MAILAUTH_INVALID_ARGUMENT);
  TRUE_THAT(validator == SENTINEL && check == SENTINEL && outcome == SENTINEL &&
            sealer == SENTINEL && sealing == SENTINEL && set == SENTINEL && s == SENTINEL &&
            n == 7 && u == 7 && r == (mailauth_arc_result)7);

  /* An unfinished check has no outcome; an SPF check has no ARC one. */
  validator = NULL;
  check = NULL;
  EXPECT(mailauth_arc_validator_new(&validator), MAILAUTH_OK);
  EXPECT(mailauth_arc_validator_feed(validator, (const uint8_t *)ORIGINAL, strlen(ORIGINAL)),
         MAILAUTH_OK);
  EXPECT(mailauth_arc_validator_finish(validator, &check), MAILAUTH_OK);
  mailauth_arc_validator_free(validator);
  outcome = SENTINEL;
  EXPECT(mailauth_check_arc_outcome(check, &outcome), MAILAUTH_NOT_DONE);
  TRUE_THAT(outcome == SENTINEL);
  EXPECT(mailauth_check_arc_outcome(check, NULL), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_check_resolve(check, resolver), MAILAUTH_OK);
  outcome = NULL;
  EXPECT(mailauth_check_arc_outcome(check, &outcome), MAILAUTH_OK);
  mailauth_spf_outcome *spf = SENTINEL;
  EXPECT(mailauth_check_spf_outcome(check, &spf), MAILAUTH_WRONG_KIND);
  TRUE_THAT(spf == SENTINEL);
  mailauth_check_free(check);

  /* Results that are not an Authentication-Results value. */
  sealer = NULL;
  EXPECT(mailauth_arc_sealer_new("example.net", "arc", key, key_len, "mx.example.net", &sealer),
         MAILAUTH_OK);
  sealing = NULL;
  EXPECT(mailauth_arc_sealing_new(sealer, 0, &sealing), MAILAUTH_OK);
  EXPECT(mailauth_arc_sealing_feed(sealing, (const uint8_t *)ORIGINAL, strlen(ORIGINAL)),
         MAILAUTH_OK);
  set = SENTINEL;
  EXPECT(mailauth_arc_sealing_finish(sealing, outcome, "no semicolon ==", &set),
         MAILAUTH_INVALID_ARGUMENT);
  EXPECT(mailauth_arc_sealing_finish(sealing, NULL, NULL, &set), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealing_finish(NULL, outcome, NULL, &set), MAILAUTH_NULL_PARAMETER);
  EXPECT(mailauth_arc_sealing_finish(sealing, outcome, NULL, NULL), MAILAUTH_NULL_PARAMETER);
  TRUE_THAT(set == SENTINEL);
  /* Still usable after the refusals. */
  set = NULL;
  EXPECT(mailauth_arc_sealing_finish(sealing, outcome, "mx.example.net; spf=pass", &set),
         MAILAUTH_OK);
  mailauth_arc_set_free(set);
  mailauth_arc_sealing_free(sealing);
  mailauth_arc_sealer_free(sealer);
  mailauth_arc_outcome_free(outcome);

  /* _free(NULL) does nothing. */
  mailauth_arc_validator_free(NULL);
  mailauth_arc_outcome_free(NULL);
  mailauth_arc_sealer_free(NULL);
  mailauth_arc_sealing_free(NULL);
  mailauth_arc_set_free(NULL);

  char message[64];
  size_t written = 0;
  EXPECT(mailauth_status_message(MAILAUTH_ARC_CHAIN_FAILED, message, sizeof message, &written),
         MAILAUTH_OK);
  TRUE_THAT(strstr(message, "marked failed") != NULL);
  EXPECT(mailauth_status_message(MAILAUTH_ARC_TOO_MANY_SETS, message, sizeof message, &written),
         MAILAUTH_OK);
  TRUE_THAT(strstr(message, "most arc sets") != NULL);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s ZONE_FILE KEY_PEM CORE_SEALED_MESSAGE OUTPUT\n", argv[0]);
    return 2;
  }
  mailauth_resolver *resolver = NULL;
  if (mailauth_resolver_new_zone_file(argv[1], &resolver) != MAILAUTH_OK) {
    fprintf(stderr, "cannot load the zone %s\n", argv[1]);
    return 2;
  }
  size_t key_len = 0, core_len = 0;
  char *key = read_file(argv[2], &key_len);
  char *core = read_file(argv[3], &core_len);
  if (!key || !core) {
    fprintf(stderr, "cannot read %s or %s\n", argv[2], argv[3]);
    free(key);
    free(core);
    mailauth_resolver_free(resolver);
    return 2;
  }

  core_sealed_chain(resolver, core, core_len);
  size_t hop1_len = 0;
  char *hop1 = sealed_by_c(resolver, (const uint8_t *)key, key_len, argv[4], &hop1_len);
  if (hop1) {
    inbound(resolver, hop1, hop1_len, 1);
    inbound(resolver, hop1, hop1_len, 0);
    free(hop1);
  }
  misuse(resolver, (const uint8_t *)key, key_len);

  free(key);
  free(core);
  mailauth_resolver_free(resolver);
  if (failures) {
    printf("arc: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("arc: %d checks passed\n", checks);
  return 0;
}
