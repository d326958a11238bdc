/*
 * mailauth-milter: SPF, DKIM and DMARC for Postfix and Sendmail, and DKIM
 * signing for the domains the relay sends for, on libmilter.
 *
 * A thin shell around the MTA session of libmailauth: each milter callback
 * is one session stage, resolved with the library's caching stub resolver
 * (shared by every connection), and each decision becomes an smfi_* call.
 * It links nothing of mailauth but libmailauth through its C ABI.
 *
 * Processes: a small supervisor (the PID in the PID file) starts the milter
 * process and passes signals on: SIGHUP reloads the settings (the milter
 * process takes it as SIGUSR1, since libmilter stops on SIGHUP), SIGTERM and
 * SIGINT stop it after the open connections end.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <mailauth.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PROGRAM "mailauth-milter"
#define DEFAULT_CONFIG "/etc/mailauth/mailauth.toml"
/* How long a stop waits for open connections, in seconds. */
#define DRAIN_SECONDS 60

/* ------------------------------------------------------------------ */
/* Settings shared by the connections, reference-counted so a reload  */
/* never frees what an open connection uses.                          */

struct config {
  mailauth_settings *settings;
  mailauth_resolver *resolver;
  bool syslog;
  bool stderr_log;
  bool why;
  bool tempfail_on_error; /* milter.on_internal_error */
  int refs;
};

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *current;
/* The DMARC report store (report.record): opened once by the milter
 * process, kept across reloads (a changed [report] section needs a
 * restart). Recording never blocks; verdicts dropped because the store is
 * down are counted by the library and logged here. */
static mailauth_store *store;
static uint64_t store_lost_logged;
static const char *config_path = DEFAULT_CONFIG;
static bool opt_stderr;
static int active_connections;

static void logmsg(const struct config *cfg, int priority, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static void logmsg(const struct config *cfg, int priority, const char *format, ...) {
  char line[8192];
  va_list args;
  va_start(args, format);
  vsnprintf(line, sizeof line, format, args);
  va_end(args);
  bool to_syslog = cfg ? cfg->syslog : true;
  bool to_stderr = opt_stderr || (cfg ? cfg->stderr_log : false);
  if (to_syslog)
    syslog(priority, "%s", line);
  if (to_stderr)
    fprintf(stderr, PROGRAM ": %s\n", line);
}

/* The value of a settings key as a new string, or NULL. */
static char *setting(mailauth_settings *settings, const char *key) {
  char *value = NULL;
  if (mailauth_settings_get(settings, key, &value) != MAILAUTH_OK)
    return NULL;
  return value;
}

static bool setting_true(mailauth_settings *settings, const char *key) {
  char *value = setting(settings, key);
  bool yes = value && strcmp(value, "true") == 0;
  mailauth_string_free(value);
  return yes;
}

/* Loads the settings file; NULL on failure, with *error a message to free
 * with free(3). */
static struct config *config_load(char **error) {
  *error = NULL;
  struct config *cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return NULL;
  char *message = NULL;
  mailauth_status s = mailauth_settings_load_file(config_path, &cfg->settings, &message);
  if (s != MAILAUTH_OK) {
    *error = strdup(message ? message : config_path);
    mailauth_string_free(message);
    free(cfg);
    return NULL;
  }
  s = mailauth_settings_new_resolver(cfg->settings, &cfg->resolver);
  if (s != MAILAUTH_OK) {
    size_t n = strlen(config_path) + 64;
    *error = malloc(n);
    if (*error)
      snprintf(*error, n, "%s: [dns]: no usable name server", config_path);
    mailauth_settings_free(cfg->settings);
    free(cfg);
    return NULL;
  }
  cfg->syslog = setting_true(cfg->settings, "milter.syslog");
  cfg->stderr_log = setting_true(cfg->settings, "milter.stderr");
  cfg->why = setting_true(cfg->settings, "log.why");
  char *on_error = setting(cfg->settings, "milter.on_internal_error");
  cfg->tempfail_on_error = !(on_error && strcmp(on_error, "accept") == 0);
  mailauth_string_free(on_error);
  cfg->refs = 1;
  return cfg;
}

static void config_release(struct config *cfg) {
  if (!cfg)
    return;
  pthread_mutex_lock(&config_lock);
  bool last = --cfg->refs == 0;
  pthread_mutex_unlock(&config_lock);
  if (last) {
    mailauth_resolver_free(cfg->resolver);
    mailauth_settings_free(cfg->settings);
    free(cfg);
  }
}

static struct config *config_acquire(void) {
  pthread_mutex_lock(&config_lock);
  struct config *cfg = current;
  if (cfg)
    cfg->refs++;
  pthread_mutex_unlock(&config_lock);
  return cfg;
}

static void reload(void) {
  char *error = NULL;
  struct config *fresh = config_load(&error);
  struct config *old = config_acquire();
  if (!fresh) {
    logmsg(old, LOG_ERR, "reload of %s failed, keeping the settings in use: %s", config_path,
           error ? error : "out of memory");
    free(error);
    config_release(old);
    return;
  }
  pthread_mutex_lock(&config_lock);
  struct config *replaced = current;
  current = fresh;
  pthread_mutex_unlock(&config_lock);
  config_release(replaced);
  logmsg(fresh, LOG_INFO, "settings reloaded from %s", config_path);
  config_release(old);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

struct conn {
  struct config *cfg;
  mailauth_session *session;
  bool failed;           /* a library call failed: the message gets on_internal_error */
  unsigned long no_reply; /* the SMFIP_NR_* steps the MTA agreed to send without reply */
};

/* The stages that never refuse (RCPT, header fields, end of header, body)
 * are sent without waiting for a reply when the MTA can (milter protocol
 * 6): a round trip less per header field and body chunk. A failure there
 * is answered at the end of the message. */
#define NO_REPLY_STEPS (SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)

static struct conn *conn_of(SMFICTX *ctx) { return smfi_getpriv(ctx); }

/* What an internal error does to the message: tempfail (default) or
 * accept unchecked, as milter.on_internal_error says. */
static sfsistat internal_error(SMFICTX *ctx, struct conn *c, const char *stage,
                               mailauth_status status) {
  char message[128] = "";
  size_t written = 0;
  if (mailauth_status_message(status, message, sizeof message, &written) != MAILAUTH_OK)
    snprintf(message, sizeof message, "status %d", (int)status);
  struct config *cfg = c ? c->cfg : current;
  const char *qid = smfi_getsymval(ctx, "i");
  logmsg(cfg, LOG_ERR, "%s: %s: internal error: %s", qid ? qid : "NOQUEUE", stage, message);
  if (c)
    c->failed = true;
  if (cfg && !cfg->tempfail_on_error)
    return SMFIS_ACCEPT;
  if (smfi_setreply(ctx, "451", "4.3.0", "Message authentication failed, try again later") !=
      MI_SUCCESS)
    logmsg(cfg, LOG_WARNING, "the MTA refused the internal error reply");
  return SMFIS_TEMPFAIL;
}

/* libmilter reads the reply text as a format: every % doubled. */
static void set_reply(SMFICTX *ctx, const char *code, const char *enhanced, const char *text) {
  char escaped[1024];
  size_t j = 0;
  for (size_t i = 0; text[i] && j + 2 < sizeof escaped; i++) {
    if (text[i] == '%')
      escaped[j++] = '%';
    escaped[j++] = text[i];
  }
  escaped[j] = '\0';
  if (smfi_setreply(ctx, (char *)code, (char *)enhanced, escaped) != MI_SUCCESS) {
    struct conn *c = smfi_getpriv(ctx);
    logmsg(c ? c->cfg : NULL, LOG_WARNING, "the MTA refused the reply \"%s %s %s\"", code,
           enhanced, escaped);
  }
}

static void log_transaction(struct conn *c, SMFICTX *ctx) {
  const char *line = NULL;
  if (mailauth_session_log_line(c->session, &line) == MAILAUTH_OK) {
    const char *qid = smfi_getsymval(ctx, "i");
    /* The queue ID of a refusal before the message is only the MTA's. */
    if (qid && strncmp(line, "NOQUEUE:", 8) == 0)
      logmsg(c->cfg, LOG_INFO, "%s:%s", qid, line + 8);
    else
      logmsg(c->cfg, LOG_INFO, "%s", line);
    const char *detail = NULL;
    if (c->cfg->why && mailauth_session_log_detail(c->session, &detail) == MAILAUTH_OK)
      logmsg(c->cfg, LOG_INFO, "%s", detail);
  }
}

/* Resolves the stage just fed and turns its action into the milter's. */
static sfsistat finish_stage(SMFICTX *ctx, struct conn *c, const char *stage,
                             mailauth_status status, bool end_of_message) {
  if (status == MAILAUTH_OK)
    status = mailauth_session_resolve(c->session, c->cfg->resolver);
  uint32_t action = 0;
  if (status == MAILAUTH_OK)
    status = mailauth_session_action(c->session, &action);
  if (status != MAILAUTH_OK)
    return internal_error(ctx, c, stage, status);
  if (end_of_message || action != MAILAUTH_ACTION_CONTINUE)
    log_transaction(c, ctx);
  switch (action) {
  case MAILAUTH_ACTION_REJECT:
  case MAILAUTH_ACTION_TEMPFAIL: {
    const char *code = NULL, *enhanced = NULL, *text = NULL;
    if (mailauth_session_reply(c->session, &code, &enhanced, &text) == MAILAUTH_OK)
      set_reply(ctx, code, enhanced, text);
    return action == MAILAUTH_ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
  }
  case MAILAUTH_ACTION_DISCARD:
    return SMFIS_DISCARD;
  case MAILAUTH_ACTION_QUARANTINE: {
    const char *reason = NULL;
    if (!end_of_message)
      return SMFIS_CONTINUE;
    status = mailauth_session_quarantine_reason(c->session, &reason);
    if (status != MAILAUTH_OK)
      return internal_error(ctx, c, "quarantine", status);
    /* A message that should be held is never passed on unheld. */
    if (smfi_quarantine(ctx, (char *)reason) != MI_SUCCESS)
      return internal_error(ctx, c, "quarantine", MAILAUTH_PANIC);
    return SMFIS_CONTINUE;
  }
  default:
    return SMFIS_CONTINUE;
  }
}

/* A header value for smfi_insheader: line breaks as bare LF, as the MTA
 * stores them (a new string). */
static char *milter_value(const char *value) {
  size_t n = strlen(value);
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (value[i] == '\r' && value[i + 1] == '\n')
      continue;
    out[j++] = value[i];
  }
  out[j] = '\0';
  return out;
}

/* Applies the edit list of the ended message; false on failure. */
static bool apply_edits(SMFICTX *ctx, struct conn *c) {
  size_t count = 0;
  if (mailauth_session_edit_count(c->session, &count) != MAILAUTH_OK)
    return false;
  for (size_t i = 0; i < count; i++) {
    uint32_t kind = 0;
    const char *name = NULL, *value = NULL;
    size_t occurrence = 0;
    if (mailauth_session_edit(c->session, i, &kind, &name, &value, &occurrence) != MAILAUTH_OK)
      return false;
    if (kind == MAILAUTH_EDIT_REMOVE) {
      if (smfi_chgheader(ctx, (char *)name, (int)occurrence, NULL) != MI_SUCCESS)
        return false;
    } else {
      char *folded = milter_value(value);
      if (!folded)
        return false;
      int ok = smfi_insheader(ctx, 0, (char *)name, folded);
      free(folded);
      if (ok != MI_SUCCESS)
        return false;
    }
  }
  return true;
}

/* A stage that never refuses: its result is kept for the end of the
 * message when the MTA expects no reply. */
static sfsistat quiet_stage(SMFICTX *ctx, struct conn *c, const char *stage,
                            mailauth_status status, unsigned long step) {
  if (!c || !c->session || c->failed) {
    if (c && (c->no_reply & step))
      return SMFIS_NOREPLY;
    return internal_error(ctx, c, stage, MAILAUTH_NOT_DONE);
  }
  if (status == MAILAUTH_OK)
    status = mailauth_session_resolve(c->session, c->cfg->resolver);
  if (status != MAILAUTH_OK) {
    if (c->no_reply & step) {
      /* Logged now, answered at the end of the message. */
      char message[128] = "";
      size_t written = 0;
      if (mailauth_status_message(status, message, sizeof message, &written) != MAILAUTH_OK)
        snprintf(message, sizeof message, "status %d", (int)status);
      logmsg(c->cfg, LOG_ERR, "%s: internal error: %s", stage, message);
      c->failed = true;
      return SMFIS_NOREPLY;
    }
    return internal_error(ctx, c, stage, status);
  }
  return (c->no_reply & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static struct conn *conn_new(SMFICTX *ctx) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cfg = config_acquire();
  if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
    config_release(c->cfg);
    free(c);
    return NULL;
  }
  pthread_mutex_lock(&config_lock);
  active_connections++;
  pthread_mutex_unlock(&config_lock);
  return c;
}

static sfsistat on_negotiate(SMFICTX *ctx, unsigned long actions, unsigned long steps,
                             unsigned long unused2, unsigned long unused3, unsigned long *actions_out,
                             unsigned long *steps_out, unsigned long *unused2_out,
                             unsigned long *unused3_out) {
  (void)unused2;
  (void)unused3;
  unsigned long needed = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE;
  if ((actions & needed) != needed)
    return SMFIS_REJECT; /* the MTA cannot make our edits: libmilter fails the connection */
  struct conn *c = conn_new(ctx);
  if (!c)
    return SMFIS_REJECT;
  c->no_reply = steps & NO_REPLY_STEPS;
  *actions_out = needed;
  *steps_out = c->no_reply | (steps & (SMFIP_NOUNKNOWN | SMFIP_NODATA));
  *unused2_out = 0;
  *unused3_out = 0;
  return SMFIS_CONTINUE;
}

static sfsistat on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr) {
  struct conn *c = conn_of(ctx);
  if (!c)
    c = conn_new(ctx);
  if (!c)
    return internal_error(ctx, NULL, "connect", MAILAUTH_PANIC);
  char address[INET6_ADDRSTRLEN] = "";
  const char *text = NULL;
  if (hostaddr && hostaddr->sa_family == AF_INET)
    text = inet_ntop(AF_INET, &((struct sockaddr_in *)hostaddr)->sin_addr, address, sizeof address);
  else if (hostaddr && hostaddr->sa_family == AF_INET6)
    text = inet_ntop(AF_INET6, &((struct sockaddr_in6 *)hostaddr)->sin6_addr, address, sizeof address);
  if (hostaddr && (hostaddr->sa_family == AF_INET || hostaddr->sa_family == AF_INET6) && !text)
    return internal_error(ctx, c, "connect", MAILAUTH_INVALID_ARGUMENT);
  /* Postfix gives "unknown" or "[address]" when there is no name. */
  const char *name = hostname;
  if (name && (name[0] == '[' || strcmp(name, "unknown") == 0))
    name = NULL;
  const char *daemon = smfi_getsymval(ctx, "{daemon_name}");
  mailauth_status s = mailauth_session_new(c->cfg->settings, address[0] ? address : NULL, name,
                                           daemon, NULL, &c->session);
  if (s != MAILAUTH_OK)
    return internal_error(ctx, c, "connect", s);
  return SMFIS_CONTINUE;
}

static sfsistat on_helo(SMFICTX *ctx, char *helo) {
  struct conn *c = conn_of(ctx);
  if (!c || !c->session)
    return internal_error(ctx, c, "helo", MAILAUTH_NOT_DONE);
  return finish_stage(ctx, c, "helo", mailauth_session_helo(c->session, helo), false);
}

static sfsistat on_envfrom(SMFICTX *ctx, char **argv) {
  struct conn *c = conn_of(ctx);
  if (!c || !c->session)
    return internal_error(ctx, c, "mail from", MAILAUTH_NOT_DONE);
  c->failed = false;
  const char *user = smfi_getsymval(ctx, "{auth_authen}");
  sfsistat r = finish_stage(ctx, c, "auth",
                            mailauth_session_set_authenticated(c->session, user ? user : ""),
                            false);
  if (r != SMFIS_CONTINUE)
    return r;
  return finish_stage(ctx, c, "mail from", mailauth_session_mail_from(c->session, argv[0]),
                      false);
}

static bool usable(struct conn *c) { return c && c->session && !c->failed; }

static sfsistat on_envrcpt(SMFICTX *ctx, char **argv) {
  struct conn *c = conn_of(ctx);
  return quiet_stage(ctx, c, "rcpt",
                     usable(c) ? mailauth_session_rcpt(c->session, argv[0]) : MAILAUTH_NOT_DONE,
                     SMFIP_NR_RCPT);
}

static sfsistat on_header(SMFICTX *ctx, char *name, char *value) {
  struct conn *c = conn_of(ctx);
  return quiet_stage(ctx, c, "header",
                     usable(c) ? mailauth_session_header(c->session, name, value)
                               : MAILAUTH_NOT_DONE,
                     SMFIP_NR_HDR);
}

static sfsistat on_eoh(SMFICTX *ctx) {
  struct conn *c = conn_of(ctx);
  return quiet_stage(ctx, c, "end of header",
                     usable(c) ? mailauth_session_end_of_header(c->session) : MAILAUTH_NOT_DONE,
                     SMFIP_NR_EOH);
}

static sfsistat on_body(SMFICTX *ctx, unsigned char *chunk, size_t len) {
  struct conn *c = conn_of(ctx);
  return quiet_stage(ctx, c, "body",
                     usable(c) ? mailauth_session_body(c->session, chunk, len) : MAILAUTH_NOT_DONE,
                     SMFIP_NR_BODY);
}

/* Records the ended message's DMARC verdict (never waits for the store)
 * and logs verdicts the store dropped since the last time. */
static void record_verdict(struct conn *c) {
  mailauth_status s = mailauth_store_record(store, c->session);
  if (s != MAILAUTH_OK) {
    logmsg(c->cfg, LOG_ERR, "report store: cannot record: status %d", (int)s);
    return;
  }
  uint64_t lost = 0;
  if (mailauth_store_lost(store, &lost) != MAILAUTH_OK)
    return;
  uint64_t logged = __atomic_load_n(&store_lost_logged, __ATOMIC_RELAXED);
  if (lost > logged &&
      __atomic_compare_exchange_n(&store_lost_logged, &logged, lost, false, __ATOMIC_RELAXED,
                                  __ATOMIC_RELAXED))
    logmsg(c->cfg, LOG_WARNING,
           "report store: %llu DMARC verdicts dropped (store down or slow), %llu in all",
           (unsigned long long)(lost - logged), (unsigned long long)lost);
}

static sfsistat on_eom(SMFICTX *ctx) {
  struct conn *c = conn_of(ctx);
  if (!c || !c->session || c->failed)
    return internal_error(ctx, c, "end of message", MAILAUTH_NOT_DONE);
  const char *qid = smfi_getsymval(ctx, "i");
  if (qid) {
    mailauth_status s = mailauth_session_set_queue_id(c->session, qid);
    if (s != MAILAUTH_OK)
      return internal_error(ctx, c, "queue id", s);
  }
  sfsistat r = finish_stage(ctx, c, "end of message",
                            mailauth_session_end_of_message(c->session), true);
  if (store)
    record_verdict(c);
  if (r == SMFIS_CONTINUE && !apply_edits(ctx, c))
    return internal_error(ctx, c, "edits", MAILAUTH_PANIC);
  return r == SMFIS_CONTINUE ? SMFIS_ACCEPT : r;
}

static sfsistat on_abort(SMFICTX *ctx) {
  struct conn *c = conn_of(ctx);
  if (c && c->session) {
    mailauth_status s = mailauth_session_abort(c->session);
    if (s == MAILAUTH_OK)
      s = mailauth_session_resolve(c->session, c->cfg->resolver);
    if (s != MAILAUTH_OK) {
      /* The next MAIL FROM starts afresh; nothing to answer here. */
      char message[128] = "";
      size_t written = 0;
      if (mailauth_status_message(s, message, sizeof message, &written) != MAILAUTH_OK)
        snprintf(message, sizeof message, "status %d", (int)s);
      logmsg(c->cfg, LOG_ERR, "abort: internal error: %s", message);
    }
    c->failed = false;
  }
  return SMFIS_CONTINUE;
}

static sfsistat on_close(SMFICTX *ctx) {
  struct conn *c = conn_of(ctx);
  if (c) {
    mailauth_session_free(c->session);
    config_release(c->cfg);
    free(c);
    smfi_setpriv(ctx, NULL);
    pthread_mutex_lock(&config_lock);
    active_connections--;
    pthread_mutex_unlock(&config_lock);
  }
  return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
    .xxfi_name = PROGRAM,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = on_connect,
    .xxfi_helo = on_helo,
    .xxfi_envfrom = on_envfrom,
    .xxfi_envrcpt = on_envrcpt,
    .xxfi_header = on_header,
    .xxfi_eoh = on_eoh,
    .xxfi_body = on_body,
    .xxfi_eom = on_eom,
    .xxfi_abort = on_abort,
    .xxfi_close = on_close,
    .xxfi_negotiate = on_negotiate,
};

/* ------------------------------------------------------------------ */
/* Start-up                                                            */

/* The path of a unix socket setting ("local:/p", "unix:/p", "/p"), or NULL. */
static const char *socket_path(const char *socket) {
  if (strncmp(socket, "local:", 6) == 0)
    return socket + 6;
  if (strncmp(socket, "unix:", 5) == 0)
    return socket + 5;
  if (socket[0] == '/')
    return socket;
  return NULL;
}

static int drop_privileges(const char *user) {
  if (!user || !*user)
    return 0;
  struct passwd *pw = getpwnam(user);
  if (!pw) {
    logmsg(current, LOG_ERR, "milter.user: no user %s", user);
    return -1;
  }
  if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0) {
    logmsg(current, LOG_ERR, "cannot become user %s: %s", user, strerror(errno));
    return -1;
  }
  return 0;
}

static void *reloader(void *unused) {
  (void)unused;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
      reload();
  }
  return NULL;
}

/* The milter process: binds, drops privileges, serves until stopped. */
static int run_milter(const char *socket_override) {
  char *socket = socket_override ? strdup(socket_override) : setting(current->settings, "milter.socket");
  char *mode = setting(current->settings, "milter.socket_mode");
  char *group = setting(current->settings, "milter.socket_group");
  char *user = setting(current->settings, "milter.user");
  int status = 1;
  if (!socket || !mode)
    goto out;
  if (smfi_setconn(socket) != MI_SUCCESS || smfi_register(filter) != MI_SUCCESS) {
    logmsg(current, LOG_ERR, "cannot use socket %s", socket);
    goto out;
  }
  umask(0077);
  if (smfi_opensocket(1) != MI_SUCCESS) {
    logmsg(current, LOG_ERR, "cannot listen on %s", socket);
    goto out;
  }
  const char *path = socket_path(socket);
  if (path) {
    mode_t m = (mode_t)strtoul(mode, NULL, 8);
    if (group && *group) {
      struct group *gr = getgrnam(group);
      if (!gr || chown(path, (uid_t)-1, gr->gr_gid) != 0) {
        logmsg(current, LOG_ERR, "milter.socket_group %s: cannot set on %s", group, path);
        goto out;
      }
    }
    if (user && *user) {
      struct passwd *pw = getpwnam(user);
      if (pw && chown(path, pw->pw_uid, (gid_t)-1) != 0)
        logmsg(current, LOG_WARNING, "cannot give %s to %s", path, user);
    }
    if (chmod(path, m) != 0) {
      logmsg(current, LOG_ERR, "cannot set mode %s on %s", mode, path);
      goto out;
    }
  }
  if (drop_privileges(user) != 0)
    goto out;
  /* The report store, as the user the milter runs as (it owns the SQLite
   * file); its writer is a thread of this process. */
  if (setting_true(current->settings, "report.record")) {
    char *error = NULL;
    if (mailauth_store_open(current->settings, &store, &error) != MAILAUTH_OK) {
      logmsg(current, LOG_ERR, "report store: %s", error ? error : "cannot open");
      mailauth_string_free(error);
      goto out;
    }
  }
  /* Every thread blocks these: SIGUSR1 goes to the reloader, the others to
   * libmilter's signal thread (which stops the milter on SIGTERM). */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
    goto out;
  pthread_t thread;
  if (pthread_create(&thread, NULL, reloader, NULL) != 0 || pthread_detach(thread) != 0) {
    logmsg(current, LOG_ERR, "cannot start the reload thread");
    goto out;
  }
  logmsg(current, LOG_INFO, "listening on %s", socket);
  int r = smfi_main();
  /* Stopped (SIGTERM): let the open connections end. */
  for (int waited = 0; waited < DRAIN_SECONDS * 10; waited++) {
    pthread_mutex_lock(&config_lock);
    int open = active_connections;
    pthread_mutex_unlock(&config_lock);
    if (open <= 0)
      break;
    struct timespec tenth = {0, 100000000};
    nanosleep(&tenth, NULL);
  }
  logmsg(current, LOG_INFO, "stopped");
  status = r == MI_SUCCESS ? 0 : 1;
out:
  if (store) {
    /* Writes what is queued (a store that is down is retried briefly). */
    uint64_t written = 0, lost = 0;
    mailauth_store_flush(store, 10000);
    mailauth_store_written(store, &written);
    mailauth_store_lost(store, &lost);
    mailauth_store_free(store);
    store = NULL;
    logmsg(current, LOG_INFO, "report store: %llu verdicts written, %llu dropped",
           (unsigned long long)written, (unsigned long long)lost);
  }
  mailauth_string_free(socket_override ? NULL : socket);
  if (socket_override)
    free(socket);
  mailauth_string_free(mode);
  mailauth_string_free(group);
  mailauth_string_free(user);
  return status;
}

/* The signals the supervisor waits for. Blocked before the milter process
 * is forked, so that neither process can be stopped by one that arrives
 * while it starts (SIGUSR1's default action ends a process). */
static void supervisor_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGUSR1);
  sigaddset(set, SIGCHLD);
}

/* The supervisor: passes SIGHUP on as a reload and SIGTERM/SIGINT as a
 * stop, and ends with the milter process. The signals are taken
 * synchronously (sigwaitinfo), so none is lost between two waits. */
static int supervise(pid_t child) {
  sigset_t set;
  supervisor_signals(&set);
  for (;;) {
    int status = 0;
    pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (done < 0)
      return 1;
    int sig = sigwaitinfo(&set, NULL);
    if (sig < 0) {
      if (errno == EINTR)
        continue;
      return 1;
    }
    if (sig == SIGHUP && kill(child, SIGUSR1) != 0)
      logmsg(current, LOG_ERR, "cannot pass the reload on: %s", strerror(errno));
    else if ((sig == SIGTERM || sig == SIGINT) && kill(child, SIGTERM) != 0)
      logmsg(current, LOG_ERR, "cannot pass the stop on: %s", strerror(errno));
  }
}

static void usage(void) {
  fprintf(stderr, "usage: " PROGRAM " [-c FILE] [-f] [-p PIDFILE] [-s SOCKET] [-l] [-n] [-V]\n"
                  "  -c FILE     settings file (default " DEFAULT_CONFIG ")\n"
                  "  -f          stay in the foreground\n"
                  "  -p PIDFILE  write the PID here (default milter.pid_file)\n"
                  "  -s SOCKET   listen here (default milter.socket)\n"
                  "  -l          log to standard error too\n"
                  "  -n          check the settings file and exit\n"
                  "  -V          print the version and exit\n");
}

int main(int argc, char **argv) {
  bool foreground = false, check_only = false;
  const char *pid_override = NULL, *socket_override = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "c:fp:s:lnVh")) != -1) {
    switch (opt) {
    case 'c':
      config_path = optarg;
      break;
    case 'f':
      foreground = true;
      break;
    case 'p':
      pid_override = optarg;
      break;
    case 's':
      socket_override = optarg;
      break;
    case 'l':
      opt_stderr = true;
      break;
    case 'n':
      check_only = true;
      break;
    case 'V':
      printf(PROGRAM " %s (libmailauth %s)\n", MAILAUTH_VERSION_STRING, mailauth_version());
      return 0;
    default:
      usage();
      return opt == 'h' ? 0 : 64;
    }
  }
  openlog(PROGRAM, LOG_PID, LOG_MAIL);
  /* From here on a SIGHUP or SIGTERM waits for the supervisor: one that
   * comes while the settings load is taken after the fork. */
  sigset_t blocked;
  supervisor_signals(&blocked);
  if (sigprocmask(SIG_BLOCK, &blocked, NULL) != 0) {
    perror(PROGRAM ": sigprocmask");
    return 71;
  }
  char *error = NULL;
  current = config_load(&error);
  if (!current) {
    fprintf(stderr, PROGRAM ": %s\n", error ? error : "out of memory");
    free(error);
    return 78; /* EX_CONFIG */
  }
  if (check_only) {
    printf("%s: settings OK\n", config_path);
    config_release(current);
    return 0;
  }
  if (!foreground && daemon(0, 0) != 0) {
    perror(PROGRAM ": daemon");
    return 71;
  }
  char *pid_file = pid_override ? strdup(pid_override) : setting(current->settings, "milter.pid_file");
  pid_t child = fork();
  if (child < 0) {
    logmsg(current, LOG_ERR, "fork: %s", strerror(errno));
    return 71;
  }
  if (child == 0) {
    /* The milter process keeps SIGHUP, SIGTERM, SIGINT and SIGUSR1 blocked
     * (run_milter hands them to their threads); it does not wait for
     * children. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_UNBLOCK, &chld, NULL) != 0)
      return 71;
    if (pid_override)
      free(pid_file);
    else
      mailauth_string_free(pid_file);
    int status = run_milter(socket_override);
    config_release(current);
    closelog();
    return status;
  }
  if (pid_file && *pid_file) {
    FILE *f = fopen(pid_file, "w");
    if (f) {
      int w = fprintf(f, "%ld\n", (long)getpid());
      if (fclose(f) != 0 || w < 0)
        logmsg(current, LOG_WARNING, "cannot write %s: %s", pid_file, strerror(errno));
    } else {
      logmsg(current, LOG_WARNING, "cannot write %s: %s", pid_file, strerror(errno));
    }
  }
  int status = supervise(child);
  if (pid_file && *pid_file)
    unlink(pid_file);
  if (pid_override)
    free(pid_file);
  else
    mailauth_string_free(pid_file);
  config_release(current);
  closelog();
  return status;
}
