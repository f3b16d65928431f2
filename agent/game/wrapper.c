// The game wrapper, native: the same job and the same files as wrapper.ts (read its header and
// wrapper-protocol.ts), in a static binary of about 1 MiB of memory where Node's floor is 40+.
// The bundled agent starts this one when the machine that built the bundle had a C compiler
// (src/platform/node-bundle.ts); test/agent/game/wrapper-conformance.test.ts holds both to one
// behaviour.
//
// Usage: game-wrapper <launch.json>, with the run directory as the working directory.
// One thread, one poll(2) loop: game stdout/stderr → rotating log + console clients (or the
// backlog while none is connected); client bytes → game stdin; signals through a self-pipe.
// Bounds: CLIENT_BUFFER_LIMIT per client (a stuck client is dropped), BACKLOG_LIMIT of replay,
// STDIN_BUFFER_LIMIT of console input waiting for the game (clients are not read past it).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_BUFFER_LIMIT (4u << 20)
#define BACKLOG_LIMIT (256u << 10)
#define STDIN_BUFFER_LIMIT (1u << 20)
#define MAX_CLIENTS 64
#define DRAIN_MS 500
#define FLUSH_MS 500

extern char **environ;

// ---------------------------------------------------------------------------------------------
// Growable byte buffers and small helpers

typedef struct {
  char *p;
  size_t len, cap;
} buf_t;

static void die(const char *fmt, ...);

static void buf_add(buf_t *b, const void *data, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) die("out of memory");
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = 0;
}
static void buf_str(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_fmt(buf_t *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
static void buf_drop(buf_t *b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
  } else {
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
  }
  // A buffer that once held megabytes (a client catching up) gives them back when empty.
  if (b->len == 0 && b->cap > (64u << 10)) {
    free(b->p);
    *b = (buf_t){0};
  }
}
static void buf_free(buf_t *b) {
  free(b->p);
  *b = (buf_t){0};
}

static int64_t now_ms(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/** new Date().toISOString() */
static void iso_now(char out[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/** A line on stderr (wrapper.log), as wrapper.ts logs. */
static void say(const char *fmt, ...) {
  char when[32];
  iso_now(when);
  fprintf(stderr, "%s game wrapper: ", when);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
}

static void die(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  say("%s", msg);
  exit(1);
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static char *read_file(const char *file, size_t *len) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  buf_t b = {0};
  char tmp[4096];
  for (;;) {
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    buf_add(&b, tmp, (size_t)r);
  }
  close(fd);
  if (!b.p) buf_add(&b, "", 0);
  if (len) *len = b.len;
  return b.p;
}

// ---------------------------------------------------------------------------------------------
// launch.json: the flat object the agent writes with JSON.stringify (wrapper-protocol.ts
// LaunchConfig). Strings keep their length: a \u0000 is a NUL the spawn must refuse, as Node's does.

typedef struct {
  char *p;
  size_t len;
} str_t;

typedef struct {
  str_t run_id, command, cwd, socket_path, run_file, exit_file, log_file, cgroup_dir;
  str_t *args;
  size_t nargs;
  str_t *env; // "KEY=value"
  size_t nenv;
  double log_max_bytes, log_keep;
} config_t;

static const char *js;

static void ws(void) {
  while (*js == ' ' || *js == '\n' || *js == '\r' || *js == '\t') js++;
}
static bool expect(char c) {
  ws();
  if (*js != c) return false;
  js++;
  return true;
}
static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}
static void utf8(buf_t *b, uint32_t cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) o[0] = (char)cp, n = 1;
  else if (cp < 0x800) o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  else if (cp < 0x10000)
    o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3F)), o[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  else
    o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3F)), o[2] = (char)(0x80 | (cp >> 6 & 0x3F)),
    o[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  buf_add(b, o, n);
}
static bool parse_string(str_t *out) {
  if (!expect('"')) return false;
  buf_t b = {0};
  buf_add(&b, "", 0);
  for (;;) {
    unsigned char c = (unsigned char)*js;
    if (c == 0 || c < 0x20) goto bad;
    js++;
    if (c == '"') break;
    if (c != '\\') {
      buf_add(&b, &c, 1);
      continue;
    }
    char e = *js++;
    switch (e) {
      case '"': case '\\': case '/': buf_add(&b, &e, 1); break;
      case 'b': buf_add(&b, "\b", 1); break;
      case 'f': buf_add(&b, "\f", 1); break;
      case 'n': buf_add(&b, "\n", 1); break;
      case 'r': buf_add(&b, "\r", 1); break;
      case 't': buf_add(&b, "\t", 1); break;
      case 'u': {
        int u = hex4(js);
        if (u < 0) goto bad;
        js += 4;
        uint32_t cp = (uint32_t)u;
        if (cp >= 0xD800 && cp <= 0xDBFF && js[0] == '\\' && js[1] == 'u') {
          int lo = hex4(js + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
            js += 6;
          }
        }
        // A lone surrogate becomes U+FFFD, as Node encodes it for a spawn.
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        utf8(&b, cp);
        break;
      }
      default: goto bad;
    }
  }
  out->p = b.p;
  out->len = b.len;
  return true;
bad:
  buf_free(&b);
  return false;
}
static bool parse_number(double *out) {
  ws();
  char *end;
  *out = strtod(js, &end);
  if (end == js) return false;
  js = end;
  return true;
}
static bool skip_value(void) {
  ws();
  str_t s;
  double d;
  if (*js == '"') {
    if (!parse_string(&s)) return false;
    free(s.p);
    return true;
  }
  if (*js == '{' || *js == '[') {
    char close = *js == '{' ? '}' : ']';
    js++;
    if (expect(close)) return true;
    do {
      if (close == '}') {
        if (!parse_string(&s)) return false;
        free(s.p);
        if (!expect(':')) return false;
      }
      if (!skip_value()) return false;
    } while (expect(','));
    return expect(close);
  }
  static const char *const literals[] = {"true", "false", "null"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(literals[i]);
    if (strncmp(js, literals[i], n) == 0) {
      js += n;
      return true;
    }
  }
  return parse_number(&d);
}

static bool parse_config(const char *text, config_t *c) {
  js = text;
  if (!expect('{')) return false;
  if (expect('}')) return true;
  do {
    str_t key;
    if (!parse_string(&key) || !expect(':')) return false;
    const char *k = key.p;
    bool ok = true;
    str_t *field = !strcmp(k, "runId") ? &c->run_id
                 : !strcmp(k, "command") ? &c->command
                 : !strcmp(k, "cwd") ? &c->cwd
                 : !strcmp(k, "socketPath") ? &c->socket_path
                 : !strcmp(k, "runFile") ? &c->run_file
                 : !strcmp(k, "exitFile") ? &c->exit_file
                 : !strcmp(k, "logFile") ? &c->log_file
                 : !strcmp(k, "cgroupDir") ? &c->cgroup_dir
                 : NULL;
    ws();
    if (field && strncmp(js, "null", 4) == 0) {
      js += 4; // an absent optional field
    } else if (field) {
      ok = parse_string(field);
    } else if (!strcmp(k, "logMaxBytes")) {
      ok = parse_number(&c->log_max_bytes);
    } else if (!strcmp(k, "logKeep")) {
      ok = parse_number(&c->log_keep);
    } else if (!strcmp(k, "args")) {
      ok = expect('[');
      if (ok && !expect(']')) {
        do {
          c->args = realloc(c->args, (c->nargs + 1) * sizeof *c->args);
          if (!c->args) die("out of memory");
          ok = parse_string(&c->args[c->nargs++]);
        } while (ok && expect(','));
        ok = ok && expect(']');
      }
    } else if (!strcmp(k, "env")) {
      ok = expect('{');
      if (ok && !expect('}')) {
        do {
          str_t name, value;
          ok = parse_string(&name) && expect(':') && parse_string(&value);
          if (!ok) break;
          buf_t kv = {0};
          buf_add(&kv, name.p, name.len);
          buf_add(&kv, "=", 1);
          buf_add(&kv, value.p, value.len);
          free(name.p);
          free(value.p);
          c->env = realloc(c->env, (c->nenv + 1) * sizeof *c->env);
          if (!c->env) die("out of memory");
          c->env[c->nenv++] = (str_t){kv.p, kv.len};
        } while (expect(','));
        ok = ok && expect('}');
      }
    } else {
      ok = skip_value();
    }
    free(key.p);
    if (!ok) return false;
  } while (expect(','));
  return expect('}');
}

/** JSON string literal of `n` bytes (UTF-8 passes through; controls are escaped). */
static void json_str(buf_t *b, const char *s, size_t n) {
  buf_add(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      buf_add(b, "\\", 1);
      buf_add(b, &c, 1);
    } else if (c < 0x20) {
      buf_fmt(b, "\\u%04x", c);
    } else {
      buf_add(b, &c, 1);
    }
  }
  buf_add(b, "\"", 1);
}
static void json_cstr_or_null(buf_t *b, const char *s) {
  if (s) json_str(b, s, strlen(s));
  else buf_str(b, "null");
}
static void json_count(buf_t *b, long long v) {
  if (v < 0) buf_str(b, "null");
  else buf_fmt(b, "%lld", v);
}

// ---------------------------------------------------------------------------------------------
// Files: durable replacement (src/platform/durable-file.ts), the size-rotated log
// (rotating-log.ts), process start times (src/platform/process-identity.ts) and the OOM counter
// (cgroup-oom.ts), each as its TypeScript original does it.

static int write_durable(const char *file, const char *data, size_t n) {
  char dir[PATH_MAX], tmp[2 * PATH_MAX];
  const char *slash = strrchr(file, '/');
  if (!slash) {
    strcpy(dir, ".");
  } else if (slash == file) {
    strcpy(dir, "/");
  } else {
    size_t n = (size_t)(slash - file);
    if (n >= sizeof dir) return errno = ENAMETOOLONG, -1;
    memcpy(dir, file, n);
    dir[n] = 0;
  }
  unsigned char rnd[6];
  if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd) return -1;
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%02x%02x%02x%02x%02x%02x", dir, slash ? slash + 1 : file, rnd[0], rnd[1], rnd[2],
           rnd[3], rnd[4], rnd[5]);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  bool ok = fchmod(fd, 0600) == 0 && write_all(fd, data, n) && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, file) != 0) {
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

static struct {
  int fd;
  const char *file;
  long long size, max_bytes;
  int keep;
} game_log = {.fd = -1};

static void mkdir_parents(const char *file) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s", file);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    mkdir(p, 0777);
    *s = '/';
  }
}

static void log_open(void) {
  game_log.fd = open(game_log.file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (game_log.fd < 0) die("could not open %s: %s", game_log.file, strerror(errno));
  struct stat st;
  game_log.size = fstat(game_log.fd, &st) == 0 ? st.st_size : 0;
}

static void log_rotate(void) {
  char from[PATH_MAX + 16], to[PATH_MAX + 16];
  close(game_log.fd);
  snprintf(to, sizeof to, "%s.%d", game_log.file, game_log.keep);
  unlink(to);
  for (int i = game_log.keep - 1; i >= 1; i--) {
    snprintf(from, sizeof from, "%s.%d", game_log.file, i);
    snprintf(to, sizeof to, "%s.%d", game_log.file, i + 1);
    rename(from, to);
  }
  if (game_log.keep >= 1) {
    snprintf(to, sizeof to, "%s.1", game_log.file);
    rename(game_log.file, to);
  } else {
    unlink(game_log.file);
  }
  log_open();
  game_log.size = 0;
}

static void log_write(const char *p, size_t n) {
  if (game_log.fd < 0) return;
  if (game_log.size > 0 && game_log.size + (long long)n > game_log.max_bytes) log_rotate();
  if (!write_all(game_log.fd, p, n)) say("could not write %s: %s", game_log.file, strerror(errno));
  game_log.size += (long long)n;
}

/** Field 22 of /proc/<pid>/stat, parsed from the last ')'; "" for a process gone or exited. */
static void start_time(pid_t pid, char out[32]) {
  char file[64];
  out[0] = 0;
  snprintf(file, sizeof file, "/proc/%d/stat", (int)pid);
  char *text = read_file(file, NULL);
  if (!text) return;
  char *close = strrchr(text, ')');
  if (close && close[1] == ' ') {
    char *f = close + 2;
    char state = *f;
    for (int i = 0; i < 19 && f; i++) f = strchr(f + 1, ' ');
    if (f && state != 'Z' && state != 'X') {
      f++;
      size_t n = strspn(f, "0123456789");
      if (n > 0 && n < 32) memcpy(out, f, n), out[n] = 0;
    }
  }
  free(text);
}

static long long read_oom_kills(const char *file) {
  if (!file) return -1;
  char *text = read_file(file, NULL);
  if (!text) return -1;
  long long v = -1;
  for (char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (strncmp(line, "oom_kill ", 9) == 0) {
      char *end;
      v = strtoll(line + 9, &end, 10);
      if (end == line + 9 || (*end != '\n' && *end != 0)) v = -1;
      break;
    }
  }
  free(text);
  return v;
}

/** The oom_kill counter file of this process's memory cgroup (cgroup-oom.ts oomCounterFile). */
static char *oom_counter_file(void) {
  char *cg = read_file("/proc/self/cgroup", NULL);
  char *mi = read_file("/proc/self/mountinfo", NULL);
  char *found = NULL;
  for (char *line = cg; !found && line && *line;) {
    char *next = strchr(line, '\n');
    if (next) *next++ = 0;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2) {
      *c2 = 0;
      const char *controllers = c1 + 1, *cg_path = c2 + 1;
      bool v2 = *controllers == 0, v1 = false;
      for (const char *p = controllers; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 6 && !strncmp(p, "memory", 6)) v1 = true;
        p += n + (p[n] == ',');
      }
      // Each mount line: "id parent maj:min root mountpoint opts... - fstype source superopts".
      char *mcopy = mi ? strdup(mi) : NULL;
      for (char *m = mcopy; !found && m && *m;) {
        char *mnext = strchr(m, '\n');
        if (mnext) *mnext++ = 0;
        char *sep = strstr(m, " - ");
        if (sep) {
          *sep = 0;
          char *right = sep + 3, *fields[5] = {0};
          char *save, *tok = strtok_r(m, " ", &save);
          for (int i = 0; tok && i < 5; i++, tok = strtok_r(NULL, " ", &save)) fields[i] = tok;
          char *fstype = strtok_r(right, " ", &save);
          strtok_r(NULL, " ", &save);
          char *super = strtok_r(NULL, " ", &save);
          int version = 0;
          if (fstype && !strcmp(fstype, "cgroup2")) version = 2;
          else if (fstype && !strcmp(fstype, "cgroup") && super) {
            for (char *o = super; *o;) {
              size_t n = strcspn(o, ",");
              if (n == 6 && !strncmp(o, "memory", 6)) version = 1;
              o += n + (o[n] == ',');
            }
          }
          if (version && fields[3] && fields[4] && ((v1 && version == 1) || (v2 && version == 2))) {
            const char *root = fields[3];
            size_t rl = strlen(root);
            const char *rel = strcmp(root, "/") != 0 && !strncmp(cg_path, root, rl) ? cg_path + rl : cg_path;
            buf_t f = {0};
            for (const char *p = fields[4]; *p; p++) {
              if (!strncmp(p, "\\040", 4)) buf_add(&f, " ", 1), p += 3;
              else buf_add(&f, p, 1);
            }
            if (*rel && *rel != '/') buf_add(&f, "/", 1);
            if (strcmp(rel, "/") != 0) buf_str(&f, rel);
            buf_str(&f, version == 2 ? "/memory.events" : "/memory.oom_control");
            if (read_oom_kills(f.p) >= 0) found = f.p;
            else buf_free(&f);
          }
        }
        m = mnext;
      }
      free(mcopy);
    }
    line = next;
  }
  free(cg);
  free(mi);
  return found;
}

// ---------------------------------------------------------------------------------------------
// The run

typedef struct {
  int fd;
  buf_t out;
} client_t;

static config_t cfg;
static int sig_pipe[2];
static int listen_fd = -1;
static client_t clients[MAX_CLIENTS];
static size_t nclients;
static buf_t backlog, stdin_pending;
static int game_in = -1, game_out = -1, game_err = -1;
static pid_t game_pid;
static bool ready_sent;
static char *oom_file;

static void on_signal(int sig) {
  int saved = errno;
  unsigned char b = (unsigned char)sig;
  if (write(sig_pipe[1], &b, 1) < 0) { /* the pipe is full: the loop has wakeups pending anyway */ }
  errno = saved;
}

static void send_ready(const buf_t *payload) {
  if (ready_sent) return;
  ready_sent = true;
  buf_t line = {0};
  buf_str(&line, "ready ");
  buf_add(&line, payload->p, payload->len);
  buf_str(&line, "\n");
  // The agent may be gone before it reads this: a broken pipe must not take the game down.
  write_all(STDOUT_FILENO, line.p, line.len);
  buf_free(&line);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) dup2(null, STDOUT_FILENO), close(null);
}

static void client_close(size_t i) {
  close(clients[i].fd);
  buf_free(&clients[i].out);
  clients[i] = clients[--nclients];
}

/** Writes what the socket takes now; false when the client is gone. */
static bool client_flush(client_t *c) {
  while (c->out.len > 0) {
    ssize_t w = write(c->fd, c->out.p, c->out.len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return true;
    if (w <= 0) return false;
    buf_drop(&c->out, (size_t)w);
  }
  return true;
}

static void stdin_flush(void) {
  while (game_in >= 0 && stdin_pending.len > 0) {
    ssize_t w = write(game_in, stdin_pending.p, stdin_pending.len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    if (w <= 0) {
      // The game closed its stdin: console input is dropped from now on.
      close(game_in);
      game_in = -1;
      buf_free(&stdin_pending);
      return;
    }
    buf_drop(&stdin_pending, (size_t)w);
  }
}

static void output(const char *p, size_t n) {
  log_write(p, n);
  if (nclients == 0) {
    buf_add(&backlog, p, n);
    if (backlog.len > BACKLOG_LIMIT) buf_drop(&backlog, backlog.len - BACKLOG_LIMIT);
    return;
  }
  for (size_t i = nclients; i-- > 0;) {
    client_t *c = &clients[i];
    if (c->out.len > CLIENT_BUFFER_LIMIT) {
      client_close(i);
      continue;
    }
    buf_add(&c->out, p, n);
    if (!client_flush(c)) client_close(i);
  }
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (nclients == MAX_CLIENTS) {
      close(fd);
      continue;
    }
    client_t *c = &clients[nclients++];
    *c = (client_t){.fd = fd};
    if (backlog.len > 0) {
      buf_add(&c->out, backlog.p, backlog.len);
      buf_free(&backlog);
      if (!client_flush(c)) client_close(nclients - 1);
    }
  }
}

/** Reads one chunk of game output; false at end of file. */
static bool pump(int fd) {
  char chunk[65536];
  ssize_t r = read(fd, chunk, sizeof chunk);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (r <= 0) return false;
  output(chunk, (size_t)r);
  return true;
}

/** Writes `record` to `file` durably (a failure is logged) and sends it as `ready {"<key>": record}`. */
static void keep_and_report(const char *file, const char *key, const buf_t *record) {
  if (write_durable(file, record->p, record->len) != 0) say("could not write %s: %s", file, strerror(errno));
  buf_t ready = {0};
  buf_fmt(&ready, "{\"%s\":", key);
  buf_add(&ready, record->p, record->len);
  buf_str(&ready, "}");
  send_ready(&ready);
  buf_free(&ready);
}

static void write_run_info(const char *wrapper_start, const char *game_start, int64_t started_at, long long oom_at_start) {
  buf_t j = {0};
  buf_str(&j, "{\"runId\":");
  json_str(&j, cfg.run_id.p, cfg.run_id.len);
  buf_fmt(&j, ",\"wrapperPid\":%d,\"wrapperStartTime\":", (int)getpid());
  json_cstr_or_null(&j, wrapper_start);
  buf_fmt(&j, ",\"gamePid\":%d,\"gameStartTime\":", (int)game_pid);
  json_cstr_or_null(&j, game_start);
  buf_fmt(&j, ",\"startedAt\":%lld,\"oomCounterFile\":", (long long)started_at);
  json_cstr_or_null(&j, oom_file);
  buf_str(&j, ",\"oomKillsAtStart\":");
  json_count(&j, oom_at_start);
  buf_str(&j, "}");
  // Without run.json a later agent cannot adopt the game; this agent still gets it from the ready line.
  keep_and_report(cfg.run_file.p, "run", &j);
  buf_free(&j);
}

/** Writes exit.json, tells a waiting agent, lets clients read their last bytes, and exits. */
static void finish(int status_known, int status, const char *spawn_error) {
  int64_t exited_at = now_ms(CLOCK_REALTIME);
  buf_t j = {0};
  buf_str(&j, "{\"runId\":");
  json_str(&j, cfg.run_id.p, cfg.run_id.len);
  buf_str(&j, ",\"exitCode\":");
  if (status_known && WIFEXITED(status)) buf_fmt(&j, "%d", WEXITSTATUS(status));
  else buf_str(&j, "null");
  buf_str(&j, ",\"signal\":");
  if (status_known && WIFSIGNALED(status)) {
    const char *abbrev = sigabbrev_np(WTERMSIG(status));
    if (abbrev) buf_fmt(&j, "\"SIG%s\"", abbrev);
    else buf_fmt(&j, "\"SIG%d\"", WTERMSIG(status));
  } else {
    buf_str(&j, "null");
  }
  buf_fmt(&j, ",\"exitedAt\":%lld,\"oomKillsAtExit\":", (long long)exited_at);
  json_count(&j, read_oom_kills(oom_file));
  buf_str(&j, ",\"spawnError\":");
  json_cstr_or_null(&j, spawn_error);
  buf_str(&j, "}");
  // If the run directory is gone the status cannot be kept; the agent then records a lost run.
  // Either way the wrapper closes its clients and exits, or an attached agent would wait forever.
  keep_and_report(cfg.exit_file.p, "exit", &j);
  close(listen_fd);
  unlink(cfg.socket_path.p);
  if (game_log.fd >= 0) close(game_log.fd);
  int64_t deadline = now_ms(CLOCK_MONOTONIC) + FLUSH_MS;
  for (;;) {
    struct pollfd pf[MAX_CLIENTS];
    nfds_t n = 0;
    for (size_t i = 0; i < nclients; i++)
      if (clients[i].out.len > 0) pf[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLOUT};
    int64_t left = deadline - now_ms(CLOCK_MONOTONIC);
    if (n == 0 || left <= 0) break;
    if (poll(pf, n, (int)left) < 0 && errno != EINTR) break;
    for (size_t i = nclients; i-- > 0;)
      if (!client_flush(&clients[i])) client_close(i);
  }
  for (size_t i = 0; i < nclients; i++) shutdown(clients[i].fd, SHUT_WR), close(clients[i].fd);
  exit(0);
}

static bool has_nul(const str_t *s) { return s->p && memchr(s->p, 0, s->len) != NULL; }

/** `from` as `to`, open across exec (dup2 of a descriptor onto itself would keep its close-on-exec). */
static void move_fd(int from, int to) {
  if (from == to) fcntl(to, F_SETFD, 0);
  else dup2(from, to);
}

/** Forks the game in its own session; returns 0, or the errno its spawn failed with. */
static int spawn_game(void) {
  int in[2], out[2], err[2], report[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(report, O_CLOEXEC)) return errno;
  char **argv = calloc(cfg.nargs + 2, sizeof *argv), **envp = calloc(cfg.nenv + 1, sizeof *envp);
  if (!argv || !envp) die("out of memory");
  argv[0] = cfg.command.p;
  for (size_t i = 0; i < cfg.nargs; i++) argv[i + 1] = cfg.args[i].p;
  for (size_t i = 0; i < cfg.nenv; i++) envp[i] = cfg.env[i].p;
  pid_t pid = fork();
  if (pid < 0) return errno;
  if (pid == 0) {
    // The child starts clean, as Node's spawn leaves it: default signal handling, nothing blocked.
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    move_fd(in[0], 0);
    move_fd(out[1], 1);
    move_fd(err[1], 2);
    int e = 0;
    if (cfg.cwd.p && chdir(cfg.cwd.p) != 0) e = errno;
    if (!e) {
      environ = envp;
      execvp(argv[0], argv);
      e = errno;
    }
    if (write(report[1], &e, sizeof e) < 0) { /* the parent reads EOF and sees a start */ }
    _exit(127);
  }
  free(argv);
  free(envp);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(report[1]);
  int e = 0;
  ssize_t r;
  do r = read(report[0], &e, sizeof e);
  while (r < 0 && errno == EINTR);
  close(report[0]);
  if (r == sizeof e && e != 0) {
    waitpid(pid, NULL, 0);
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return e;
  }
  game_pid = pid;
  game_in = in[1];
  game_out = out[0];
  game_err = err[0];
  fcntl(game_in, F_SETFL, O_NONBLOCK);
  fcntl(game_out, F_SETFL, O_NONBLOCK);
  fcntl(game_err, F_SETFL, O_NONBLOCK);
  return 0;
}

/** `spawn <command as a JSON string's inside> <code>`, the message wrapper.ts reports. */
static char *spawn_message(const char *code, const char *detail) {
  buf_t shown = {0}, msg = {0};
  json_str(&shown, cfg.command.p ? cfg.command.p : "", cfg.command.len);
  buf_str(&msg, "spawn ");
  buf_add(&msg, shown.p + 1, shown.len - 2);
  buf_fmt(&msg, " %s", code);
  if (detail) buf_fmt(&msg, ": %s", detail);
  buf_free(&shown);
  return msg.p;
}

static void spawn_failed(char *msg) {
  buf_t line = {0};
  buf_str(&line, "[zlh] could not start the server: ");
  buf_str(&line, msg);
  buf_str(&line, "\n");
  output(line.p, line.len);
  buf_free(&line);
  finish(0, 0, msg);
}

int main(int argc, char **argv) {
  if (argc != 2) die("usage: game-wrapper <launch.json>");
  char *text = read_file(argv[1], NULL);
  if (!text) die("could not read %s: %s", argv[1], strerror(errno));
  if (!parse_config(text, &cfg) || !cfg.run_id.p || !cfg.command.p || !cfg.socket_path.p || !cfg.run_file.p ||
      !cfg.exit_file.p || !cfg.log_file.p)
    die("%s is not a launch file", argv[1]);
  free(text);

  signal(SIGPIPE, SIG_IGN);
  if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK)) die("pipe: %s", strerror(errno));
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  game_log.file = cfg.log_file.p;
  game_log.max_bytes = cfg.log_max_bytes > 0 ? (long long)cfg.log_max_bytes : 8ll << 20;
  game_log.keep = cfg.log_keep >= 0 ? (int)cfg.log_keep : 3;
  mkdir_parents(game_log.file);
  log_open();
  // A marker line lets crash records take only this run's output from a log shared by all runs.
  {
    char when[32];
    iso_now(when);
    buf_t m = {0};
    buf_str(&m, "[zlh] run ");
    buf_add(&m, cfg.run_id.p, cfg.run_id.len);
    buf_fmt(&m, " started %s ", when);
    buf_add(&m, cfg.command.p, cfg.command.len);
    for (size_t i = 0; i < cfg.nargs; i++) buf_add(&m, " ", 1), buf_add(&m, cfg.args[i].p, cfg.args[i].len);
    buf_add(&m, "\n", 1);
    log_write(m.p, m.len);
    buf_free(&m);
  }
  if (cfg.cgroup_dir.p) {
    // Join before spawning: the game inherits the cgroup from its first instruction on.
    char procs[PATH_MAX + 16], pid[16];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", cfg.cgroup_dir.p);
    int n = snprintf(pid, sizeof pid, "%d", (int)getpid());
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || !write_all(fd, pid, (size_t)n)) say("could not join %s: %s", cfg.cgroup_dir.p, strerror(errno));
    if (fd >= 0) close(fd);
  }
  oom_file = oom_counter_file();
  long long oom_at_start = read_oom_kills(oom_file);

  // Relative to the cwd (the run dir): deep roots would overflow sun_path with the absolute path.
  unlink(cfg.socket_path.p);
  const char *sock_name = strrchr(cfg.socket_path.p, '/') ? strrchr(cfg.socket_path.p, '/') + 1 : cfg.socket_path.p;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock_name) >= sizeof addr.sun_path) die("socket name too long: %s", sock_name);
  strcpy(addr.sun_path, sock_name);
  listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 511) != 0)
    die("could not listen on %s: %s", cfg.socket_path.p, strerror(errno));

  bool nul = has_nul(&cfg.command) || has_nul(&cfg.cwd);
  for (size_t i = 0; i < cfg.nargs; i++) nul = nul || has_nul(&cfg.args[i]);
  for (size_t i = 0; i < cfg.nenv; i++) nul = nul || has_nul(&cfg.env[i]);
  if (nul) spawn_failed(spawn_message("ERR_INVALID_ARG_VALUE", "the command, its arguments, environment and directory must be strings without null bytes"));
  int e = spawn_game();
  if (e) {
    const char *name = strerrorname_np(e);
    char code[16];
    if (!name) snprintf(code, sizeof code, "E%d", e), name = code;
    spawn_failed(spawn_message(name, NULL));
  }
  char wrapper_start[32], game_start[32];
  start_time(getpid(), wrapper_start);
  start_time(game_pid, game_start);
  write_run_info(wrapper_start, game_start, now_ms(CLOCK_REALTIME), oom_at_start);

  int status = 0;
  bool exited = false;
  int64_t drain_until = 0;
  for (;;) {
    if (exited && ((game_out < 0 && game_err < 0) || now_ms(CLOCK_MONOTONIC) >= drain_until)) finish(1, status, NULL);
    struct pollfd pf[MAX_CLIENTS + 5];
    nfds_t n = 0;
    pf[n++] = (struct pollfd){.fd = sig_pipe[0], .events = POLLIN};
    pf[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    pf[n++] = (struct pollfd){.fd = game_out, .events = POLLIN};
    pf[n++] = (struct pollfd){.fd = game_err, .events = POLLIN};
    pf[n++] = (struct pollfd){.fd = stdin_pending.len > 0 ? game_in : -1, .events = POLLOUT};
    // Console input waits for a game that does not read it: clients are not read past the bound.
    short client_events = stdin_pending.len < STDIN_BUFFER_LIMIT ? POLLIN : 0;
    for (size_t i = 0; i < nclients; i++)
      pf[n++] = (struct pollfd){.fd = clients[i].fd, .events = client_events | (clients[i].out.len > 0 ? POLLOUT : 0)};
    int timeout = exited ? (int)(drain_until - now_ms(CLOCK_MONOTONIC)) : -1;
    if (poll(pf, n, exited && timeout < 0 ? 0 : timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    if (pf[0].revents) {
      unsigned char sigs[64];
      ssize_t r = read(sig_pipe[0], sigs, sizeof sigs);
      for (ssize_t i = 0; i < r; i++) {
        if (sigs[i] == SIGCHLD) continue;
        // Passed to the game's process group instead of orphaning it.
        kill(-game_pid, sigs[i] == SIGHUP ? SIGTERM : sigs[i]);
      }
      if (!exited && waitpid(game_pid, &status, WNOHANG) == game_pid) {
        exited = true;
        // Drain what the game printed last, but do not wait on grandchildren holding the pipes open.
        drain_until = now_ms(CLOCK_MONOTONIC) + DRAIN_MS;
      }
    }
    if (pf[1].revents) accept_clients();
    if (pf[2].revents && !pump(game_out)) close(game_out), game_out = -1;
    if (pf[3].revents && !pump(game_err)) close(game_err), game_err = -1;
    if (pf[4].revents) stdin_flush();
    // Clients accepted in this round are not in pf: only the first ones polled are looked at.
    size_t polled = n - 5;
    for (size_t k = polled; k-- > 0;) {
      struct pollfd *p = &pf[5 + k];
      size_t i;
      for (i = 0; i < nclients && clients[i].fd != p->fd; i++) {}
      if (i == nclients || !p->revents) continue;
      if ((p->revents & POLLOUT) && !client_flush(&clients[i])) {
        client_close(i);
        continue;
      }
      if (p->revents & (POLLIN | POLLHUP | POLLERR)) {
        char in[65536];
        ssize_t r = read(clients[i].fd, in, sizeof in);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) {
          client_close(i);
          continue;
        }
        if (game_in >= 0) {
          buf_add(&stdin_pending, in, (size_t)r);
          stdin_flush();
        }
      }
    }
  }
}
