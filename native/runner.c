/*
 * pinlab-runner: the live-kernel side of `pinlab oracle`.
 *
 * Runs scenario steps on the real kernel and reports, per step, the return
 * value / errno and observations (pagemap, /proc/PID/status, smaps, vmstat).
 * The protocol (line-delimited JSON on stdin/stdout) is specified in
 * docs/oracle-protocol.md; the TypeScript client is src/oracle/native.ts.
 *
 * Shape:
 *   runner   this process: parses steps, answers observation ops itself by
 *            reading /proc, forwards process ops to workers, enforces the
 *            per-step deadline, keeps the journal, cleans up.
 *   worker   one real process per modelled process, controlled over a
 *            SOCK_SEQPACKET socket.  `spawn` forks one from the runner;
 *            `fork` makes the worker itself fork(), so the scenario's fork is
 *            the kernel's fork; the child gets its own socket (passed with
 *            SCM_RIGHTS) and becomes a new named process.
 *
 * Memory content model: one 32-bit word per 4 KiB page, at the start of the
 * page (store writes it there, memset writes it to every page of a range,
 * load reads it).  User accesses are real CPU loads and stores; SIGSEGV and
 * SIGBUS come back as -EFAULT and the process lives on.
 *
 * Cleanup: everything the runner changes outside its run directory (mounts,
 * sysctl / sysfs knobs, the hugetlb pool) and every process it starts is
 * written to the journal BEFORE the change (write-ahead), so the client can
 * undo it if the runner is killed.  On stdin EOF, `shutdown`, SIGTERM, SIGINT
 * or SIGHUP the runner undoes everything itself and writes {"t":"clean"}.
 *
 * C11 + POSIX + Linux uapi headers; io_uring through raw syscalls.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>

#define RUNNER_VERSION 1
#define PAGE 4096UL
#define MAX_PROCS 64
#define MAX_PIPES 64
#define MSG_MAX (1u << 20) /* largest request or reply on a worker socket */
#define CHAN_FD 1000       /* where a worker keeps its control socket */
#define PRIV_FD_BASE 900   /* the worker's own fds (ring, dma file, uffd) */
#define DEFAULT_TIMEOUT_MS 10000
#define PAGEMAP_MAX_PAGES 16384

/* uapi bits newer than the 6.1 headers this is built against (values from 6.18). */
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16)
#endif
#ifndef UFFDIO_MOVE
struct uffdio_move {
	__u64 dst;
	__u64 src;
	__u64 len;
	__u64 mode;
	__s64 move;
};
#define _UFFDIO_MOVE (0x05)
#define UFFDIO_MOVE _IOWR(UFFDIO, _UFFDIO_MOVE, struct uffdio_move)
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#define MFD_EXEC 0x0010U
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_mlock2
#define __NR_mlock2 325
#endif
#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC 0xEF53
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* ------------------------------------------------------------------------ */
/* Small utilities                                                          */
/* ------------------------------------------------------------------------ */

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pinlab-runner: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	_exit(2);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A growable string buffer. */
typedef struct {
	char *b;
	size_t n, cap;
} sb;

static void sb_grow(sb *s, size_t need)
{
	if (s->n + need + 1 <= s->cap)
		return;
	size_t cap = s->cap ? s->cap : 256;
	while (cap < s->n + need + 1)
		cap *= 2;
	char *nb = realloc(s->b, cap);
	if (!nb)
		die("out of memory");
	s->b = nb;
	s->cap = cap;
}

static void sb_putn(sb *s, const char *p, size_t n)
{
	sb_grow(s, n);
	memcpy(s->b + s->n, p, n);
	s->n += n;
	s->b[s->n] = 0;
}

static void sb_puts(sb *s, const char *p) { sb_putn(s, p, strlen(p)); }

static void sb_printf(sb *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(s, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(s->b + s->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s->n += (size_t)n;
}

static void sb_jstr(sb *s, const char *p, size_t n)
{
	sb_putn(s, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			sb_putn(s, e, 2);
		} else if (c < 0x20) {
			sb_printf(s, "\\u%04x", c);
		} else {
			sb_putn(s, (const char *)&c, 1);
		}
	}
	sb_putn(s, "\"", 1);
}

static void sb_reset(sb *s)
{
	s->n = 0;
	if (s->b)
		s->b[0] = 0;
}

/* Comma before the next field of an object being built, unless it is the first. */
static void sb_field(sb *s, const char *key)
{
	if (s->n)
		sb_putn(s, ",", 1);
	sb_jstr(s, key, strlen(key));
	sb_putn(s, ":", 1);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n + 1 < cap) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(fd);
	return (ssize_t)n;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	if (w < 0)
		return -e;
	return 0;
}

/* /proc/PID/stat field 22: the start time, to tell a pid from its reuse. */
static unsigned long long proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof buf) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p += 2; /* state */
	for (int field = 3; field < 22 && *p; field++) {
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_file(path, buf, sizeof buf) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* ------------------------------------------------------------------------ */
/* JSON: a small parser into an arena, enough for the protocol              */
/* ------------------------------------------------------------------------ */

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
	int t;
	const char *s; /* J_STR: decoded text; J_NUM: the number's text */
	size_t slen;
	const char *raw; /* the value's source text */
	size_t rawlen;
	const char *key; /* member name when inside an object */
	struct jv *first, *next;
} jv;

static char *arena;
static size_t arena_n, arena_cap;

static void *aalloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (arena_n + n > arena_cap)
		return NULL;
	void *p = arena + arena_n;
	arena_n += n;
	memset(p, 0, n);
	return p;
}

typedef struct {
	const char *p, *end;
	int depth;
	const char *err;
} jparser;

static void jws(jparser *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static jv *jparse_value(jparser *j);

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char *jparse_string(jparser *j, size_t *len)
{
	/* j->p at the opening quote */
	j->p++;
	const char *start = j->p;
	size_t cap = 1;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			j->p++;
		j->p++;
		cap++;
	}
	if (j->p >= j->end) {
		j->err = "unterminated string";
		return NULL;
	}
	char *out = aalloc(cap * 3 + 1);
	if (!out) {
		j->err = "request too large";
		return NULL;
	}
	size_t n = 0;
	for (const char *q = start; q < j->p; q++) {
		if (*q != '\\') {
			out[n++] = *q;
			continue;
		}
		q++;
		switch (*q) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'u': {
			unsigned v = 0;
			for (int i = 1; i <= 4; i++) {
				int h = q + i < j->p ? hexv(q[i]) : -1;
				if (h < 0) {
					j->err = "bad \\u escape";
					return NULL;
				}
				v = v * 16 + (unsigned)h;
			}
			q += 4;
			if (v < 0x80) {
				out[n++] = (char)v;
			} else if (v < 0x800) {
				out[n++] = (char)(0xc0 | (v >> 6));
				out[n++] = (char)(0x80 | (v & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | (v >> 12));
				out[n++] = (char)(0x80 | ((v >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (v & 0x3f));
			}
			break;
		}
		default: out[n++] = *q; break;
		}
	}
	out[n] = 0;
	j->p++; /* closing quote */
	*len = n;
	return out;
}

static jv *jparse_value(jparser *j)
{
	jws(j);
	if (j->p >= j->end) {
		j->err = "unexpected end of input";
		return NULL;
	}
	if (++j->depth > 64) {
		j->err = "nesting too deep";
		return NULL;
	}
	jv *v = aalloc(sizeof *v);
	if (!v) {
		j->err = "request too large";
		return NULL;
	}
	v->raw = j->p;
	char c = *j->p;
	if (c == '{' || c == '[') {
		v->t = c == '{' ? J_OBJ : J_ARR;
		char close = c == '{' ? '}' : ']';
		j->p++;
		jv **tail = &v->first;
		jws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
		} else {
			for (;;) {
				const char *key = NULL;
				jws(j);
				if (v->t == J_OBJ) {
					if (j->p >= j->end || *j->p != '"') {
						j->err = "expected a member name";
						return NULL;
					}
					size_t kl;
					key = jparse_string(j, &kl);
					if (!key)
						return NULL;
					jws(j);
					if (j->p >= j->end || *j->p != ':') {
						j->err = "expected ':'";
						return NULL;
					}
					j->p++;
				}
				jv *kid = jparse_value(j);
				if (!kid)
					return NULL;
				kid->key = key;
				*tail = kid;
				tail = &kid->next;
				jws(j);
				if (j->p < j->end && *j->p == ',') {
					j->p++;
					continue;
				}
				if (j->p < j->end && *j->p == close) {
					j->p++;
					break;
				}
				j->err = v->t == J_OBJ ? "expected ',' or '}'" : "expected ',' or ']'";
				return NULL;
			}
		}
	} else if (c == '"') {
		v->t = J_STR;
		v->s = jparse_string(j, &v->slen);
		if (!v->s)
			return NULL;
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->t = J_NUM;
		const char *st = j->p;
		j->p++;
		while (j->p < j->end && (isalnum((unsigned char)*j->p) || *j->p == '.' || *j->p == '+' ||
					 *j->p == '-'))
			j->p++;
		v->s = st;
		v->slen = (size_t)(j->p - st);
	} else if (j->end - j->p >= 4 && !strncmp(j->p, "null", 4)) {
		v->t = J_NULL;
		j->p += 4;
	} else if (j->end - j->p >= 4 && !strncmp(j->p, "true", 4)) {
		v->t = J_TRUE;
		j->p += 4;
	} else if (j->end - j->p >= 5 && !strncmp(j->p, "false", 5)) {
		v->t = J_FALSE;
		j->p += 5;
	} else {
		j->err = "unexpected character";
		return NULL;
	}
	v->rawlen = (size_t)(j->p - v->raw);
	j->depth--;
	return v;
}

static jv *jparse(const char *text, size_t len, const char **err)
{
	arena_n = 0;
	jparser j = { text, text + len, 0, NULL };
	jv *v = jparse_value(&j);
	if (v) {
		jws(&j);
		if (j.p != j.end) {
			j.err = "trailing characters";
			v = NULL;
		}
	}
	*err = j.err;
	return v;
}

static jv *jget(const jv *o, const char *key)
{
	if (!o || o->t != J_OBJ)
		return NULL;
	for (jv *k = o->first; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

static const char *jstr(const jv *v) { return v && v->t == J_STR ? v->s : NULL; }

/* ------------------------------------------------------------------------ */
/* Flag names, so steps can say "PROT_READ|PROT_WRITE" as scenarios do       */
/* ------------------------------------------------------------------------ */

struct flagname {
	const char *name;
	unsigned long long value;
};

#define F(x) { #x, (unsigned long long)(x) }
static const struct flagname flagnames[] = {
	F(PROT_NONE), F(PROT_READ), F(PROT_WRITE), F(PROT_EXEC),
	F(MAP_SHARED), F(MAP_PRIVATE), F(MAP_SHARED_VALIDATE), F(MAP_FIXED), F(MAP_FIXED_NOREPLACE),
	F(MAP_ANONYMOUS), { "MAP_ANON", MAP_ANONYMOUS }, F(MAP_POPULATE), F(MAP_NORESERVE),
	F(MAP_HUGETLB), F(MAP_LOCKED), F(MAP_GROWSDOWN), F(MAP_STACK), F(MAP_NONBLOCK),
	{ "MAP_HUGE_2MB", 21ULL << MAP_HUGE_SHIFT }, { "MAP_HUGE_1GB", 30ULL << MAP_HUGE_SHIFT },
	F(O_RDONLY), F(O_WRONLY), F(O_RDWR), F(O_CREAT), F(O_EXCL), F(O_TRUNC), F(O_APPEND),
	F(O_DIRECT), F(O_SYNC), F(O_DSYNC), F(O_NONBLOCK), F(O_CLOEXEC), F(O_TMPFILE),
	F(O_NOATIME), F(O_DIRECTORY),
	F(MADV_NORMAL), F(MADV_RANDOM), F(MADV_SEQUENTIAL), F(MADV_WILLNEED), F(MADV_DONTNEED),
	F(MADV_FREE), F(MADV_REMOVE), F(MADV_DONTFORK), F(MADV_DOFORK), F(MADV_MERGEABLE),
	F(MADV_UNMERGEABLE), F(MADV_HUGEPAGE), F(MADV_NOHUGEPAGE), F(MADV_DONTDUMP), F(MADV_DODUMP),
	F(MADV_WIPEONFORK), F(MADV_KEEPONFORK), F(MADV_COLD), F(MADV_PAGEOUT),
	F(MADV_POPULATE_READ), F(MADV_POPULATE_WRITE), F(MADV_DONTNEED_LOCKED), F(MADV_COLLAPSE),
	F(MADV_GUARD_INSTALL), F(MADV_GUARD_REMOVE),
	F(MFD_CLOEXEC), F(MFD_ALLOW_SEALING), F(MFD_HUGETLB), F(MFD_NOEXEC_SEAL), F(MFD_EXEC),
	{ "MFD_HUGE_2MB", 21ULL << MAP_HUGE_SHIFT }, { "MFD_HUGE_1GB", 30ULL << MAP_HUGE_SHIFT },
	F(FALLOC_FL_KEEP_SIZE), F(FALLOC_FL_PUNCH_HOLE), F(FALLOC_FL_COLLAPSE_RANGE),
	F(FALLOC_FL_ZERO_RANGE), F(FALLOC_FL_INSERT_RANGE), F(FALLOC_FL_UNSHARE_RANGE),
	F(MREMAP_MAYMOVE), F(MREMAP_FIXED), F(MREMAP_DONTUNMAP),
	F(MLOCK_ONFAULT), F(MCL_CURRENT), F(MCL_FUTURE), F(MCL_ONFAULT),
	F(MS_ASYNC), F(MS_SYNC), F(MS_INVALIDATE),
	F(SPLICE_F_MOVE), F(SPLICE_F_NONBLOCK), F(SPLICE_F_MORE), F(SPLICE_F_GIFT),
	{ "MPOL_MF_MOVE", 1 << 1 }, { "MPOL_MF_MOVE_ALL", 1 << 2 },
	{ "UFFDIO_MOVE_MODE_DONTWAKE", 1 }, { "UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES", 2 },
	{ NULL, 0 },
};
#undef F

/* A number ("4096", "0x7f00", "-1", "2M") or flag names joined by '|'. */
static int parse_num_text(const char *s, size_t n, long long *out)
{
	char tok[128];
	unsigned long long acc = 0;
	int any = 0;
	size_t i = 0;
	while (i <= n) {
		size_t st = i;
		while (i < n && s[i] != '|')
			i++;
		size_t a = st, b = i;
		while (a < b && isspace((unsigned char)s[a]))
			a++;
		while (b > a && isspace((unsigned char)s[b - 1]))
			b--;
		if (b - a == 0 || b - a >= sizeof tok)
			return -1;
		memcpy(tok, s + a, b - a);
		tok[b - a] = 0;
		if (isdigit((unsigned char)tok[0]) || tok[0] == '-') {
			char *end;
			errno = 0;
			long long v = strtoll(tok, &end, 0);
			if (errno == ERANGE)
				v = (long long)strtoull(tok, &end, 0);
			if (*end == 'K' || *end == 'k')
				v <<= 10, end++;
			else if (*end == 'M')
				v <<= 20, end++;
			else if (*end == 'G')
				v <<= 30, end++;
			if (*end)
				return -1;
			acc |= (unsigned long long)v;
			if (!any && b == n && st == 0) {
				*out = v;
				return 0;
			}
		} else {
			const struct flagname *f = flagnames;
			while (f->name && strcmp(f->name, tok))
				f++;
			if (!f->name)
				return -1;
			acc |= f->value;
		}
		any = 1;
		i++;
	}
	*out = (long long)acc;
	return 0;
}

static char argerr[256];

/* 1: found and valid; 0: absent (or null); -1: present but not a number. */
static int arg_num(const jv *args, const char *key, long long *out)
{
	jv *v = jget(args, key);
	if (!v || v->t == J_NULL)
		return 0;
	if (v->t == J_TRUE || v->t == J_FALSE) {
		*out = v->t == J_TRUE;
		return 1;
	}
	if (v->t == J_NUM || v->t == J_STR) {
		if (parse_num_text(v->s, v->slen, out) == 0)
			return 1;
	}
	snprintf(argerr, sizeof argerr, "argument %s: expected a number or flag names", key);
	return -1;
}

#define BADARG LLONG_MIN
#define NUM(var, key)                                                                  \
	long long var = 0;                                                             \
	do {                                                                           \
		int _r = arg_num(args, key, &var);                                     \
		if (_r < 0)                                                            \
			return BADARG;                                                 \
		if (_r == 0) {                                                         \
			snprintf(argerr, sizeof argerr, "missing argument %s", key);   \
			return BADARG;                                                 \
		}                                                                      \
	} while (0)
#define OPT(var, key, dflt)                                                            \
	long long var = (dflt);                                                        \
	do {                                                                           \
		if (arg_num(args, key, &var) < 0)                                      \
			return BADARG;                                                 \
	} while (0)

static long long sysret(long long r) { return r < 0 ? -(long long)errno : r; }

/* Content runs: what a range of pages holds, one 32-bit word per page, run-length encoded. */
typedef struct {
	sb *s;
	long long cur;
	int have;
	unsigned long count;
} runs;

static void runs_begin(runs *r, sb *s, const char *key)
{
	sb_field(s, key);
	sb_puts(s, "[");
	r->s = s;
	r->have = 0;
	r->count = 0;
}

static void runs_flush(runs *r, int last)
{
	if (!r->have)
		return;
	if (r->cur < 0)
		sb_printf(r->s, "[null,%lu]", r->count);
	else
		sb_printf(r->s, "[%lld,%lu]", r->cur, r->count);
	if (!last)
		sb_puts(r->s, ",");
}

static void runs_add(runs *r, long long v /* -1 = unreadable */)
{
	if (r->have && r->cur == v) {
		r->count++;
		return;
	}
	runs_flush(r, 0);
	r->cur = v;
	r->count = 1;
	r->have = 1;
}

static void runs_end(runs *r)
{
	runs_flush(r, 1);
	sb_puts(r->s, "]");
}

/* ------------------------------------------------------------------------ */
/* Worker: one real process per modelled process                            */
/* ------------------------------------------------------------------------ */

struct worker {
	int chan;
	char name[64];
	int suppress_reply; /* set in a fork child: the parent answers the step */
	/* io_uring: one ring per process, created on first use */
	int ring_fd;
	void *sq_ring, *cq_ring;
	size_t sq_sz, cq_sz;
	struct io_uring_sqe *sqes;
	size_t sqes_sz;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	int nbufs; /* registered buffers, 0 if none */
	int dma_fd; /* memfd the "device" reads into / writes from */
	char *scratch;
	size_t scratch_sz;
	int uffd;
	int passed_fd; /* fd received with the current request (fork) */
};

static struct worker W;

/* User accesses run with SIGSEGV/SIGBUS/SIGALRM armed to come back here. */
static sigjmp_buf access_jb;
static volatile sig_atomic_t access_armed;
static volatile sig_atomic_t access_sig;
static volatile sig_atomic_t timed_out;
static void *volatile access_addr;

static void worker_sig(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGALRM)
		timed_out = 1;
	if (access_armed) {
		access_armed = 0;
		access_sig = sig;
		access_addr = sig == SIGALRM ? NULL : si->si_addr;
		siglongjmp(access_jb, 1);
	}
	if (sig == SIGALRM)
		return; /* a blocking syscall returns EINTR */
	/* a fault outside a user access: a runner bug; die with the signal */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void worker_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = worker_sig;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER; /* no SA_RESTART: blocking calls see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN); /* fork children are reaped by the kernel */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void arm_timer(long long ms)
{
	struct itimerval it;
	memset(&it, 0, sizeof it);
	if (ms > 0) {
		it.it_value.tv_sec = ms / 1000;
		it.it_value.tv_usec = (ms % 1000) * 1000;
	}
	timed_out = 0;
	setitimer(ITIMER_REAL, &it, NULL);
}

static int move_fd_high(int fd, int base)
{
	if (fd < 0 || fd >= base)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (nfd < 0)
		return fd;
	close(fd);
	return nfd;
}

static char *scratch_get(size_t len)
{
	len = (len + PAGE - 1) & ~(PAGE - 1);
	if (len == 0)
		len = PAGE;
	if (W.scratch && W.scratch_sz >= len)
		return W.scratch;
	if (W.scratch)
		munmap(W.scratch, W.scratch_sz);
	W.scratch = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (W.scratch == MAP_FAILED) {
		W.scratch = NULL;
		W.scratch_sz = 0;
		return NULL;
	}
	madvise(W.scratch, len, MADV_DONTFORK);
	W.scratch_sz = len;
	return W.scratch;
}

/* Fill a buffer with the content model: `word` at the start of every page. */
static void fill_words(char *p, size_t len, uint32_t word)
{
	memset(p, 0, len);
	for (size_t off = 0; off + 4 <= len; off += PAGE)
		memcpy(p + off, &word, 4);
}

static void words_of(sb *obs, const char *key, const char *p, size_t len)
{
	runs r;
	runs_begin(&r, obs, key);
	for (size_t off = 0; off < len; off += PAGE) {
		uint32_t w = 0;
		size_t n = len - off < 4 ? len - off : 4;
		memcpy(&w, p + off, n);
		runs_add(&r, (long long)w);
	}
	runs_end(&r);
}

/* --- memory access ------------------------------------------------------ */

static long long user_store_range(unsigned long addr, unsigned long len, uint32_t value, sb *obs)
{
	unsigned long start = addr & ~(PAGE - 1);
	unsigned long end = addr + len;
	volatile unsigned long done = 0;
	if (sigsetjmp(access_jb, 1)) {
		sb_field(obs, "signal");
		sb_printf(obs, "\"%s\"", access_sig == SIGBUS ? "SIGBUS" : access_sig == SIGSEGV ? "SIGSEGV" : "timeout");
		sb_field(obs, "fault_addr");
		sb_printf(obs, "%lu", (unsigned long)(uintptr_t)access_addr);
		sb_field(obs, "pages_done");
		sb_printf(obs, "%lu", done);
		return access_sig == SIGALRM ? -EINTR : -EFAULT;
	}
	access_armed = 1;
	for (unsigned long a = start; a < end; a += PAGE) {
		*(volatile uint32_t *)a = value;
		done = done + 1;
	}
	access_armed = 0;
	return 0;
}

static long long user_load(unsigned long addr, sb *obs)
{
	unsigned long a = addr & ~(PAGE - 1);
	volatile uint32_t v = 0;
	if (sigsetjmp(access_jb, 1)) {
		sb_field(obs, "signal");
		sb_printf(obs, "\"%s\"", access_sig == SIGBUS ? "SIGBUS" : access_sig == SIGSEGV ? "SIGSEGV" : "timeout");
		return access_sig == SIGALRM ? -EINTR : -EFAULT;
	}
	access_armed = 1;
	v = *(volatile uint32_t *)a;
	access_armed = 0;
	return (long long)v;
}

/* --- io_uring through raw syscalls -------------------------------------- */

static int ring_setup(void)
{
	if (W.ring_fd >= 0)
		return 0;
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		return -errno;
	fd = move_fd_high(fd, PRIV_FD_BASE);
	size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	int single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
	if (single) {
		if (cq_sz > sq_sz)
			sq_sz = cq_sz;
		cq_sz = sq_sz;
	}
	void *sq = mmap(NULL, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED) {
		int e = errno;
		close(fd);
		return -e;
	}
	void *cq = sq;
	if (!single) {
		cq = mmap(NULL, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED) {
			int e = errno;
			munmap(sq, sq_sz);
			close(fd);
			return -e;
		}
	}
	size_t sqes_sz = p.sq_entries * sizeof(struct io_uring_sqe);
	void *sqes = mmap(NULL, sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
	if (sqes == MAP_FAILED) {
		int e = errno;
		munmap(sq, sq_sz);
		if (!single)
			munmap(cq, cq_sz);
		close(fd);
		return -e;
	}
	/* The ring's own mappings must not follow the process into fork children:
	 * each modelled process has its own ring (see the fork handler). */
	madvise(sq, sq_sz, MADV_DONTFORK);
	if (!single)
		madvise(cq, cq_sz, MADV_DONTFORK);
	madvise(sqes, sqes_sz, MADV_DONTFORK);
	W.ring_fd = fd;
	W.sq_ring = sq;
	W.cq_ring = cq;
	W.sq_sz = sq_sz;
	W.cq_sz = single ? 0 : cq_sz;
	W.sqes = sqes;
	W.sqes_sz = sqes_sz;
	W.sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	W.sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	W.sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	W.cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	W.cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	W.cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);
	W.cqes = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes);
	return 0;
}

static void ring_teardown(int close_fd)
{
	if (W.ring_fd < 0)
		return;
	if (W.sq_ring)
		munmap(W.sq_ring, W.sq_sz);
	if (W.cq_sz)
		munmap(W.cq_ring, W.cq_sz);
	if (W.sqes)
		munmap(W.sqes, W.sqes_sz);
	if (close_fd)
		close(W.ring_fd);
	W.ring_fd = -1;
	W.sq_ring = W.cq_ring = NULL;
	W.sqes = NULL;
	W.nbufs = 0;
}

/* Submit one SQE and wait for its completion; the CQE's res. */
static long long ring_rw_fixed(int opcode, int fd, unsigned long addr, unsigned len, unsigned long long off,
			       unsigned buf_index)
{
	unsigned tail = *W.sq_tail;
	unsigned idx = tail & *W.sq_mask;
	struct io_uring_sqe *sqe = &W.sqes[idx];
	memset(sqe, 0, sizeof *sqe);
	sqe->opcode = (unsigned char)opcode;
	sqe->fd = fd;
	sqe->addr = addr;
	sqe->len = len;
	sqe->off = off;
	sqe->buf_index = (unsigned short)buf_index;
	sqe->user_data = 0x9157;
	W.sq_array[idx] = idx;
	__atomic_store_n(W.sq_tail, tail + 1, __ATOMIC_RELEASE);
	for (;;) {
		long r = syscall(__NR_io_uring_enter, W.ring_fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0);
		if (r >= 0)
			break;
		if (errno == EINTR && !timed_out)
			continue;
		return -errno;
	}
	for (;;) {
		unsigned head = *W.cq_head;
		unsigned ctail = __atomic_load_n(W.cq_tail, __ATOMIC_ACQUIRE);
		if (head != ctail) {
			struct io_uring_cqe *cqe = &W.cqes[head & *W.cq_mask];
			long long res = cqe->res;
			__atomic_store_n(W.cq_head, head + 1, __ATOMIC_RELEASE);
			return res;
		}
		long r = syscall(__NR_io_uring_enter, W.ring_fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r < 0 && timed_out)
			return -EINTR;
	}
}

static int dma_file(size_t len)
{
	if (W.dma_fd < 0) {
		int fd = memfd_create("pinlab-dma", MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		W.dma_fd = move_fd_high(fd, PRIV_FD_BASE);
	}
	if (ftruncate(W.dma_fd, 0) < 0 || ftruncate(W.dma_fd, (off_t)len) < 0)
		return -errno;
	return W.dma_fd;
}

/* Parse an iovec list: args[key] is {addr,len} or [{addr,len},...]. */
static int parse_iovs(const jv *args, const char *key, struct iovec *iov, int max)
{
	jv *v = jget(args, key);
	if (!v) {
		snprintf(argerr, sizeof argerr, "missing argument %s", key);
		return -1;
	}
	int n = 0;
	const jv *one = v->t == J_OBJ ? v : NULL;
	jv *it = v->t == J_ARR ? v->first : NULL;
	for (;;) {
		const jv *e = one ? one : it;
		if (!e)
			break;
		long long a, l;
		if (n >= max || arg_num(e, "addr", &a) != 1 || arg_num(e, "len", &l) != 1) {
			snprintf(argerr, sizeof argerr, "argument %s: expected {addr,len} or a list of them (at most %d)", key, max);
			return -1;
		}
		iov[n].iov_base = (void *)(uintptr_t)a;
		iov[n].iov_len = (size_t)l;
		n++;
		if (one)
			break;
		it = it->next;
	}
	return n;
}

/* --- worker operations -------------------------------------------------- */

static long long wop(const char *op, const jv *args, long long tpid, sb *obs)
{
	if (!strcmp(op, "open")) {
		const char *path = jstr(jget(args, "path"));
		if (!path) {
			snprintf(argerr, sizeof argerr, "missing argument path");
			return BADARG;
		}
		OPT(flags, "flags", O_RDONLY);
		OPT(mode, "mode", 0600);
		return sysret(open(path, (int)flags, (mode_t)mode));
	}
	if (!strcmp(op, "close")) {
		NUM(fd, "fd");
		if (fd >= PRIV_FD_BASE)
			return -EBADF;
		return sysret(close((int)fd));
	}
	if (!strcmp(op, "unlink")) {
		const char *path = jstr(jget(args, "path"));
		if (!path) {
			snprintf(argerr, sizeof argerr, "missing argument path");
			return BADARG;
		}
		return sysret(unlink(path));
	}
	if (!strcmp(op, "ftruncate")) {
		NUM(fd, "fd");
		NUM(len, "len");
		return sysret(ftruncate((int)fd, (off_t)len));
	}
	if (!strcmp(op, "fallocate")) {
		NUM(fd, "fd");
		OPT(mode, "mode", 0);
		NUM(off, "off");
		NUM(len, "len");
		return sysret(fallocate((int)fd, (int)mode, (off_t)off, (off_t)len));
	}
	if (!strcmp(op, "fsync")) {
		NUM(fd, "fd");
		return sysret(fsync((int)fd));
	}
	if (!strcmp(op, "read") || !strcmp(op, "pread") || !strcmp(op, "write") || !strcmp(op, "pwrite")) {
		int is_write = op[0] == 'w' || op[1] == 'w';
		int positional = op[0] == 'p';
		NUM(fd, "fd");
		NUM(len, "len");
		long long off = 0;
		if (positional) {
			int r = arg_num(args, "off", &off);
			if (r != 1) {
				if (r == 0)
					snprintf(argerr, sizeof argerr, "missing argument off");
				return BADARG;
			}
		}
		long long buf = 0;
		int have_buf = arg_num(args, "buf", &buf);
		if (have_buf < 0)
			return BADARG;
		char *p;
		if (have_buf) {
			p = (char *)(uintptr_t)buf;
		} else {
			p = scratch_get((size_t)len);
			if (!p)
				return -ENOMEM;
			if (is_write) {
				OPT(value, "value", 0);
				fill_words(p, (size_t)len, (uint32_t)value);
			}
		}
		ssize_t r;
		if (is_write)
			r = positional ? pwrite((int)fd, p, (size_t)len, (off_t)off) : write((int)fd, p, (size_t)len);
		else
			r = positional ? pread((int)fd, p, (size_t)len, (off_t)off) : read((int)fd, p, (size_t)len);
		long long ret = sysret(r);
		if (!is_write && !have_buf && ret > 0)
			words_of(obs, "runs", p, (size_t)ret);
		return ret;
	}
	if (!strcmp(op, "mmap")) {
		OPT(addr, "addr", 0);
		NUM(len, "len");
		NUM(prot, "prot");
		NUM(flags, "flags");
		OPT(fd, "fd", -1);
		OPT(off, "off", 0);
		void *p = mmap((void *)(uintptr_t)addr, (size_t)len, (int)prot, (int)flags, (int)fd, (off_t)off);
		if (p == MAP_FAILED) {
			long long e = -(long long)errno;
			if (e == -ENOMEM) {
				/* The memory bound is to blame only if the mapping would not fit under it
				 * (a hugetlb pool without a free page is also -ENOMEM). */
				struct rlimit rl;
				unsigned long long vm_pages = 0;
				FILE *statm = fopen("/proc/self/statm", "r");
				if (statm) {
					if (fscanf(statm, "%llu", &vm_pages) != 1)
						vm_pages = 0;
					fclose(statm);
				}
				if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
				    vm_pages * (unsigned long long)sysconf(_SC_PAGESIZE) + (unsigned long long)len > rl.rlim_cur) {
					sb_field(obs, "rlimit_as");
					sb_printf(obs, "%llu", (unsigned long long)rl.rlim_cur);
				}
			}
			return e;
		}
		return (long long)(uintptr_t)p;
	}
	if (!strcmp(op, "munmap")) {
		NUM(addr, "addr");
		NUM(len, "len");
		return sysret(munmap((void *)(uintptr_t)addr, (size_t)len));
	}
	if (!strcmp(op, "mprotect")) {
		NUM(addr, "addr");
		NUM(len, "len");
		NUM(prot, "prot");
		return sysret(mprotect((void *)(uintptr_t)addr, (size_t)len, (int)prot));
	}
	if (!strcmp(op, "madvise")) {
		NUM(addr, "addr");
		NUM(len, "len");
		NUM(advice, "advice");
		return sysret(madvise((void *)(uintptr_t)addr, (size_t)len, (int)advice));
	}
	if (!strcmp(op, "msync")) {
		NUM(addr, "addr");
		NUM(len, "len");
		OPT(flags, "flags", MS_SYNC);
		return sysret(msync((void *)(uintptr_t)addr, (size_t)len, (int)flags));
	}
	if (!strcmp(op, "mremap")) {
		NUM(addr, "addr");
		NUM(old_len, "old_len");
		NUM(new_len, "new_len");
		OPT(flags, "flags", 0);
		OPT(new_addr, "new_addr", 0);
		void *p = mremap((void *)(uintptr_t)addr, (size_t)old_len, (size_t)new_len, (int)flags,
				 (void *)(uintptr_t)new_addr);
		if (p == MAP_FAILED)
			return -(long long)errno;
		return (long long)(uintptr_t)p;
	}
	if (!strcmp(op, "mlock")) {
		NUM(addr, "addr");
		NUM(len, "len");
		OPT(flags, "flags", 0);
		return sysret(syscall(__NR_mlock2, (void *)(uintptr_t)addr, (size_t)len, (unsigned)flags));
	}
	if (!strcmp(op, "munlock")) {
		NUM(addr, "addr");
		NUM(len, "len");
		return sysret(munlock((void *)(uintptr_t)addr, (size_t)len));
	}
	if (!strcmp(op, "mlockall")) {
		NUM(flags, "flags");
		return sysret(mlockall((int)flags));
	}
	if (!strcmp(op, "munlockall"))
		return sysret(munlockall());
	if (!strcmp(op, "memset")) {
		NUM(addr, "addr");
		NUM(value, "value");
		NUM(len, "len");
		if (len < 0)
			return -EINVAL;
		return user_store_range((unsigned long)addr, (unsigned long)len, (uint32_t)value, obs);
	}
	if (!strcmp(op, "store")) {
		NUM(addr, "addr");
		NUM(value, "value");
		return user_store_range((unsigned long)addr, 1, (uint32_t)value, obs);
	}
	if (!strcmp(op, "load")) {
		NUM(addr, "addr");
		return user_load((unsigned long)addr, obs);
	}
	if (!strcmp(op, "memfd_create")) {
		const char *name = jstr(jget(args, "name"));
		OPT(flags, "flags", 0);
		return sysret(memfd_create(name ? name : "pinlab", (unsigned)flags));
	}
	if (!strcmp(op, "memfd_secret")) {
		OPT(flags, "flags", 0);
		return sysret(syscall(__NR_memfd_secret, (unsigned)flags));
	}
	if (!strcmp(op, "pipe")) {
		OPT(flags, "flags", 0);
		int fds[2];
		if (pipe2(fds, (int)flags) < 0)
			return -(long long)errno;
		sb_field(obs, "rfd");
		sb_printf(obs, "%d", fds[0]);
		sb_field(obs, "wfd");
		sb_printf(obs, "%d", fds[1]);
		W.passed_fd = fds[0]; /* a copy goes to the runner with the reply */
		return 0;
	}
	if (!strcmp(op, "vmsplice")) {
		NUM(fd, "fd");
		OPT(flags, "flags", 0);
		struct iovec iov[16];
		int n;
		if (jget(args, "iov")) {
			n = parse_iovs(args, "iov", iov, 16);
			if (n < 0)
				return BADARG;
		} else {
			NUM(addr, "addr");
			NUM(len, "len");
			iov[0].iov_base = (void *)(uintptr_t)addr;
			iov[0].iov_len = (size_t)len;
			n = 1;
		}
		return sysret(vmsplice((int)fd, iov, (unsigned long)n, (unsigned)flags));
	}
	if (!strcmp(op, "process_vm_readv") || !strcmp(op, "process_vm_writev")) {
		struct iovec liov[16], riov[16];
		int nl = parse_iovs(args, "local", liov, 16);
		if (nl < 0)
			return BADARG;
		int nr = parse_iovs(args, "remote", riov, 16);
		if (nr < 0)
			return BADARG;
		OPT(flags, "flags", 0);
		pid_t pid = tpid > 0 ? (pid_t)tpid : getpid();
		ssize_t r = op[11] == 'r' ? process_vm_readv(pid, liov, (unsigned long)nl, riov, (unsigned long)nr, (unsigned long)flags)
					  : process_vm_writev(pid, liov, (unsigned long)nl, riov, (unsigned long)nr, (unsigned long)flags);
		return sysret(r);
	}
	if (!strcmp(op, "proc_mem_write") || !strcmp(op, "proc_mem_read")) {
		int is_write = !strcmp(op, "proc_mem_write");
		NUM(addr, "addr");
		NUM(len, "len");
		char path[64];
		if (tpid > 0)
			snprintf(path, sizeof path, "/proc/%lld/mem", tpid);
		else
			snprintf(path, sizeof path, "/proc/self/mem");
		int fd = open(path, is_write ? O_RDWR : O_RDONLY);
		if (fd < 0)
			return -(long long)errno;
		char *p = scratch_get((size_t)len);
		if (!p) {
			close(fd);
			return -ENOMEM;
		}
		ssize_t r;
		if (is_write) {
			OPT(value, "value", 0);
			fill_words(p, (size_t)len, (uint32_t)value);
			/* like the kernel's selftests: whole-page writes put the word at each page start */
			r = pwrite(fd, p, (size_t)len, (off_t)addr);
		} else {
			r = pread(fd, p, (size_t)len, (off_t)addr);
		}
		long long ret = sysret(r);
		close(fd);
		if (!is_write && ret > 0)
			words_of(obs, "runs", p, (size_t)ret);
		return ret;
	}
	if (!strcmp(op, "move_pages")) {
		jv *pages = jget(args, "pages");
		if (!pages || pages->t != J_ARR) {
			snprintf(argerr, sizeof argerr, "argument pages: expected a list of addresses");
			return BADARG;
		}
		void *pv[512];
		int nodes[512], status[512];
		unsigned long n = 0;
		for (jv *e = pages->first; e; e = e->next) {
			long long a;
			if (n >= 512 || parse_num_text(e->s ? e->s : "", e->s ? e->slen : 0, &a) < 0) {
				snprintf(argerr, sizeof argerr, "argument pages: at most 512 addresses");
				return BADARG;
			}
			pv[n++] = (void *)(uintptr_t)a;
		}
		jv *nv = jget(args, "nodes");
		int have_nodes = nv && nv->t == J_ARR;
		if (have_nodes) {
			unsigned long i = 0;
			for (jv *e = nv->first; e && i < n; e = e->next, i++) {
				long long x = 0;
				parse_num_text(e->s ? e->s : "0", e->s ? e->slen : 1, &x);
				nodes[i] = (int)x;
			}
		}
		OPT(flags, "flags", 0);
		for (unsigned long i = 0; i < n; i++)
			status[i] = INT_MIN;
		long r = syscall(__NR_move_pages, tpid > 0 ? (pid_t)tpid : 0, n, pv, have_nodes ? nodes : NULL, status,
				 (int)flags);
		long long ret = sysret(r);
		sb_field(obs, "status");
		sb_puts(obs, "[");
		for (unsigned long i = 0; i < n; i++)
			sb_printf(obs, "%s%d", i ? "," : "", status[i]);
		sb_puts(obs, "]");
		return ret;
	}
	if (!strcmp(op, "io_uring_register_buffers")) {
		struct iovec iov[64];
		int n;
		if (jget(args, "iov")) {
			n = parse_iovs(args, "iov", iov, 64);
			if (n < 0)
				return BADARG;
		} else {
			NUM(addr, "addr");
			NUM(len, "len");
			iov[0].iov_base = (void *)(uintptr_t)addr;
			iov[0].iov_len = (size_t)len;
			n = 1;
		}
		int r = ring_setup();
		if (r < 0)
			return r;
		long long ret = sysret(syscall(__NR_io_uring_register, W.ring_fd, IORING_REGISTER_BUFFERS, iov, (unsigned)n));
		if (ret == 0)
			W.nbufs = n;
		return ret;
	}
	if (!strcmp(op, "io_uring_unregister_buffers")) {
		if (W.ring_fd < 0)
			return -ENXIO; /* what the kernel says for a ring without buffers */
		long long ret = sysret(syscall(__NR_io_uring_register, W.ring_fd, IORING_UNREGISTER_BUFFERS, NULL, 0));
		if (ret == 0)
			W.nbufs = 0;
		return ret;
	}
	if (!strcmp(op, "uring_write_fixed") || !strcmp(op, "uring_read_fixed")) {
		/* write_fixed: the device reads the registered buffer ("dma_read");
		 * read_fixed: the device writes into it ("dma_write"). */
		int dev_reads = !strcmp(op, "uring_write_fixed");
		NUM(addr, "addr");
		NUM(len, "len");
		OPT(index, "index", 0);
		if (W.ring_fd < 0)
			return -ENXIO;
		int fd = dma_file((size_t)len);
		if (fd < 0)
			return fd;
		if (!dev_reads) {
			OPT(value, "value", 0);
			char *p = scratch_get((size_t)len);
			if (!p)
				return -ENOMEM;
			fill_words(p, (size_t)len, (uint32_t)value);
			if (pwrite(fd, p, (size_t)len, 0) != (ssize_t)len)
				return -EIO;
		}
		long long res = ring_rw_fixed(dev_reads ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED, fd,
					      (unsigned long)addr, (unsigned)len, 0, (unsigned)index);
		if (dev_reads && res > 0) {
			char *p = scratch_get((size_t)res);
			if (!p)
				return -ENOMEM;
			ssize_t got = pread(fd, p, (size_t)res, 0);
			if (got > 0)
				words_of(obs, "runs", p, (size_t)got);
		}
		return res;
	}
	if (!strcmp(op, "uffd_move")) {
		NUM(dst, "dst");
		NUM(src, "src");
		NUM(len, "len");
		OPT(mode, "mode", 0);
		if (W.uffd < 0) {
			int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
			if (fd < 0)
				return -(long long)errno;
			struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MOVE };
			if (ioctl(fd, UFFDIO_API, &api) < 0) {
				long long e = -(long long)errno;
				close(fd);
				return e;
			}
			W.uffd = move_fd_high(fd, PRIV_FD_BASE);
		}
		struct uffdio_register reg = { .range = { (unsigned long long)dst, (unsigned long long)len },
					       .mode = UFFDIO_REGISTER_MODE_MISSING };
		if (ioctl(W.uffd, UFFDIO_REGISTER, &reg) < 0) {
			sb_field(obs, "stage");
			sb_puts(obs, "\"register\"");
			return -(long long)errno;
		}
		struct uffdio_move mv = { (unsigned long long)dst, (unsigned long long)src, (unsigned long long)len,
					  (unsigned long long)mode, 0 };
		long long ret = sysret(ioctl(W.uffd, UFFDIO_MOVE, &mv));
		sb_field(obs, "move");
		sb_printf(obs, "%lld", (long long)mv.move);
		/* Unregister at once, so later accesses to holes fault normally. */
		struct uffdio_range rng = { (unsigned long long)dst, (unsigned long long)len };
		ioctl(W.uffd, UFFDIO_UNREGISTER, &rng);
		return ret;
	}
	if (!strcmp(op, "getpid"))
		return getpid();
	if (!strcmp(op, "sleep")) {
		NUM(ms, "ms");
		sleep_ms((long)ms);
		return 0;
	}
	snprintf(argerr, sizeof argerr, "unknown op %s", op);
	return BADARG;
}

static void worker_cleanup_and_exit(int status)
{
	if (W.ring_fd >= 0) {
		if (W.nbufs)
			syscall(__NR_io_uring_register, W.ring_fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
		ring_teardown(1);
	}
	if (W.uffd >= 0)
		close(W.uffd);
	munlockall();
	_exit(status);
}

/* Called in the child of a scenario fork: become the new named process. */
static void worker_become_child(int newchan)
{
	close(W.chan);
	W.chan = move_fd_high(newchan, CHAN_FD);
	/* Ring, scratch and dma mappings were MADV_DONTFORK: not in this mm.
	 * The ring fd was inherited; close it so this process's ring is its own. */
	if (W.ring_fd >= 0)
		close(W.ring_fd);
	W.ring_fd = -1;
	W.sq_ring = W.cq_ring = NULL;
	W.sqes = NULL;
	W.cq_sz = 0;
	W.nbufs = 0;
	W.scratch = NULL;
	W.scratch_sz = 0;
	if (W.dma_fd >= 0)
		close(W.dma_fd);
	W.dma_fd = -1;
	if (W.uffd >= 0)
		close(W.uffd);
	W.uffd = -1;
	W.suppress_reply = 1;
}

static void worker_loop(void)
{
	static char req[MSG_MAX];
	sb reply = { 0 }, obs = { 0 };
	for (;;) {
		struct iovec iov = { req, sizeof req - 1 };
		char cbuf[CMSG_SPACE(sizeof(int) * 4)];
		struct msghdr mh;
		memset(&mh, 0, sizeof mh);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		ssize_t n = recvmsg(W.chan, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			worker_cleanup_and_exit(0); /* the runner is gone */
		req[n] = 0;
		int passed = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&passed, CMSG_DATA(c), sizeof(int));

		const char *err;
		jv *root = jparse(req, (size_t)n, &err);
		const char *op = jstr(jget(root, "op"));
		jv *args = jget(root, "args");
		long long tpid = 0, timeout = DEFAULT_TIMEOUT_MS;
		arg_num(root, "tpid", &tpid);
		arg_num(root, "timeout_ms", &timeout);
		sb_reset(&reply);
		sb_reset(&obs);
		argerr[0] = 0;
		W.passed_fd = -1;
		W.suppress_reply = 0;
		long long ret;
		int step_timed_out = 0;
		if (!root || !op) {
			ret = BADARG;
			snprintf(argerr, sizeof argerr, "worker: bad request");
		} else if (!strcmp(op, "__cleanup")) {
			worker_cleanup_and_exit(0);
		} else if (!strcmp(op, "exit")) {
			long long status = 0;
			arg_num(args, "status", &status);
			_exit((int)status); /* the scenario's exit: no cleanup, the kernel does it */
		} else if (!strcmp(op, "fork")) {
			if (passed < 0) {
				ret = BADARG;
				snprintf(argerr, sizeof argerr, "worker: fork without a channel");
			} else {
				pid_t pid = fork();
				if (pid == 0) {
					const char *cname = jstr(jget(args, "child"));
					snprintf(W.name, sizeof W.name, "%s", cname ? cname : "child");
					char comm[16];
					snprintf(comm, sizeof comm, "pinlab:%.8s", W.name);
					prctl(PR_SET_NAME, comm);
					worker_become_child(passed);
					passed = -1;
					ret = 0;
				} else {
					ret = pid < 0 ? -(long long)errno : pid;
					close(passed);
					passed = -1;
				}
			}
		} else {
			arm_timer(timeout);
			ret = wop(op, args ? args : root, tpid, &obs);
			step_timed_out = timed_out;
			arm_timer(0);
		}
		if (passed >= 0)
			close(passed);
		if (W.suppress_reply)
			continue;
		if (ret == BADARG) {
			sb_puts(&reply, "\"error\":");
			sb_jstr(&reply, argerr, strlen(argerr));
		} else {
			int e = ret < 0 && ret >= -4095 ? (int)-ret : 0;
			sb_printf(&reply, "\"ret\":%lld,\"errno\":%d", ret, e);
			if (e)
				sb_printf(&reply, ",\"errname\":\"%s\"", errname(e));
			if (step_timed_out)
				sb_printf(&reply, ",\"error\":\"timeout\",\"detail\":\"interrupted after %lld ms; the process lives on\"",
					  timeout);
			if (obs.n)
				sb_printf(&reply, ",\"obs\":{%s}", obs.b);
		}
		if (reply.n > MSG_MAX - 256) {
			sb_reset(&reply);
			sb_puts(&reply, "\"error\":\"reply too large: observe a smaller range per step\"");
		}
		struct iovec riov = { reply.b, reply.n };
		struct msghdr rh;
		memset(&rh, 0, sizeof rh);
		rh.msg_iov = &riov;
		rh.msg_iovlen = 1;
		char rcbuf[CMSG_SPACE(sizeof(int))];
		if (W.passed_fd >= 0) {
			rh.msg_control = rcbuf;
			rh.msg_controllen = sizeof rcbuf;
			struct cmsghdr *c = CMSG_FIRSTHDR(&rh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &W.passed_fd, sizeof(int));
		}
		ssize_t sent;
		while ((sent = sendmsg(W.chan, &rh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
			;
		if (sent < 0 && errno == EMSGSIZE) {
			static const char tl[] = "\"error\":\"reply too large for the channel\"";
			send(W.chan, tl, sizeof tl - 1, MSG_NOSIGNAL);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Runner                                                                   */
/* ------------------------------------------------------------------------ */

struct proc {
	char name[64];
	pid_t pid;
	int sock;
	int pidfd;
	int alive;
	int is_child; /* our child (spawned or reparented): we reap it */
	unsigned long long start;
	int have_status, wstatus; /* how it ended, when we reaped it */
};

struct rpipe {
	char proc[64];
	int rfd_in_proc;
	int fd; /* the runner's copy of the read end */
};

static struct proc procs[MAX_PROCS];
static int nprocs;
static struct rpipe pipes[MAX_PIPES];
static int npipes;

static char rundir[PATH_MAX];
static char journal_path[PATH_MAX];
static int journal_fd = -1;
static int rundir_is_ext4, rundir_owned;
static long long as_limit_mb = 8192;
static volatile sig_atomic_t stop_requested;
static int nmounts;

/* knobs changed, in order, with their original values (restored in reverse) */
struct knob {
	char path[256];
	char orig[128];
};
static struct knob knobs[64];
static int nknobs;
static char mounts[16][PATH_MAX];

static void journal(const char *fmt, ...)
{
	if (journal_fd < 0)
		return;
	sb s = { 0 };
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(&s, (size_t)n + 2);
	va_start(ap, fmt);
	vsnprintf(s.b, (size_t)n + 1, fmt, ap);
	va_end(ap);
	s.n = (size_t)n;
	sb_puts(&s, "\n");
	write_all(journal_fd, s.b, s.n);
	free(s.b);
}

static void out_line(sb *s)
{
	sb_puts(s, "\n");
	if (write_all(STDOUT_FILENO, s->b, s->n) < 0)
		stop_requested = 1;
}

static struct proc *find_proc(const char *name)
{
	for (int i = 0; i < nprocs; i++)
		if (!strcmp(procs[i].name, name))
			return &procs[i];
	return NULL;
}

static struct proc *find_proc_pid(pid_t pid)
{
	for (int i = 0; i < nprocs; i++)
		if (procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

static void reap(void)
{
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		struct proc *pr = find_proc_pid(p);
		if (pr) {
			pr->alive = 0;
			pr->have_status = 1;
			pr->wstatus = st;
		}
	}
}

/* Wait until the process has exited (its mm is gone), up to deadline. */
static int wait_exit(struct proc *p, long long deadline)
{
	for (;;) {
		struct pollfd pf = { p->pidfd, POLLIN, 0 };
		long long left = deadline - now_ms();
		if (left < 0)
			left = 0;
		int r = p->pidfd >= 0 ? poll(&pf, 1, (int)(left > 100 ? 100 : left)) : 0;
		if (r > 0)
			return 0;
		if (p->pidfd < 0) {
			char s = proc_state(p->pid);
			if (s == 0 || s == 'Z' || s == 'X')
				return 0;
			sleep_ms(10);
		}
		reap();
		if (now_ms() >= deadline)
			return -1;
	}
}

static void proc_kill(struct proc *p)
{
	if (p->pidfd >= 0)
		syscall(__NR_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
	else if (p->pid > 0 && proc_starttime(p->pid) == p->start)
		kill(p->pid, SIGKILL);
}

static void proc_gone(struct proc *p)
{
	p->alive = 0;
	if (p->sock >= 0)
		close(p->sock);
	p->sock = -1;
	if (p->is_child)
		waitpid(p->pid, NULL, WNOHANG);
}

static struct proc *proc_add(const char *name, pid_t pid, int sock, int is_child)
{
	if (nprocs >= MAX_PROCS)
		return NULL;
	struct proc *p = &procs[nprocs++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->pid = pid;
	p->sock = sock;
	p->alive = 1;
	p->is_child = is_child;
	p->pidfd = (int)syscall(__NR_pidfd_open, pid, 0);
	p->start = proc_starttime(pid);
	journal("{\"t\":\"proc\",\"name\":\"%s\",\"pid\":%d,\"start\":%llu}", p->name, (int)pid, p->start);
	return p;
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) >= 64)
		return 0;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
			return 0;
	return 1;
}

/* A control channel: one message per request or reply, big enough for MSG_MAX. */
static int chan_pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	int sz = 2 * MSG_MAX;
	for (int i = 0; i < 2; i++) {
		/* root may exceed net.core.wmem_max; otherwise take what we get */
		if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz) < 0)
			setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	return 0;
}

/* A fresh worker forked from the runner. */
static long long spawn_worker(const char *name, sb *obs)
{
	if (find_proc(name))
		return -EEXIST;
	int sv[2];
	if (chan_pair(sv) < 0)
		return -(long long)errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		/* the worker: keep only its socket; stdin/stdout to /dev/null */
		int chan = fcntl(sv[1], F_DUPFD, CHAN_FD);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		syscall(__NR_close_range, 3, CHAN_FD - 1, 0);
		syscall(__NR_close_range, CHAN_FD + 1, ~0U, 0);
		memset(&W, 0, sizeof W);
		W.chan = chan;
		W.ring_fd = W.dma_fd = W.uffd = W.passed_fd = -1;
		snprintf(W.name, sizeof W.name, "%s", name);
		char comm[16];
		snprintf(comm, sizeof comm, "pinlab:%.8s", name);
		prctl(PR_SET_NAME, comm);
		worker_signals();
		if (rundir[0] && chdir(rundir) < 0)
			_exit(3);
		worker_loop();
		_exit(0);
	}
	close(sv[1]);
	struct proc *p = proc_add(name, pid, sv[0], 1);
	if (!p) {
		kill(pid, SIGKILL);
		close(sv[0]);
		return -EMFILE;
	}
	sb_field(obs, "pid");
	sb_printf(obs, "%d", (int)pid);
	return pid;
}

/* The worker's socket closed: wait for the exit to finish and say how it ended. */
static void report_dead(struct proc *p, sb *out, int is_exit)
{
	int ok = wait_exit(p, now_ms() + 5000) == 0;
	int st = 0;
	if (p->is_child && waitpid(p->pid, &st, 0) == p->pid) {
		p->have_status = 1;
		p->wstatus = st;
	}
	proc_gone(p);
	if (is_exit)
		sb_printf(out, ",\"ret\":0,\"errno\":0%s}", ok ? "" : ",\"obs\":{\"still_exiting\":true}");
	else if (p->have_status && WIFSIGNALED(p->wstatus))
		sb_printf(out, ",\"error\":\"crashed\",\"detail\":\"process %s died with signal %s\"}", p->name,
			  sigabbrev_np(WTERMSIG(p->wstatus)) ? sigabbrev_np(WTERMSIG(p->wstatus)) : "?");
	else
		sb_printf(out, ",\"error\":\"crashed\",\"detail\":\"process %s died\"}", p->name);
}

/* Send one request to a worker and wait for its reply (or its death). */
static void forward(struct proc *p, const char *id, size_t idlen, const char *op, const jv *args, long long tpid,
		    long long timeout, const char *child, sb *out)
{
	sb req = { 0 };
	sb_puts(&req, "{\"op\":");
	sb_jstr(&req, op, strlen(op));
	sb_printf(&req, ",\"tpid\":%lld,\"timeout_ms\":%lld,\"args\":", tpid, timeout);
	if (args)
		sb_putn(&req, args->raw, args->rawlen);
	else
		sb_puts(&req, "{}");
	sb_puts(&req, "}");

	int sv[2] = { -1, -1 };
	struct msghdr mh;
	memset(&mh, 0, sizeof mh);
	struct iovec iov = { req.b, req.n };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	char cbuf[CMSG_SPACE(sizeof(int))];
	int is_fork = !strcmp(op, "fork"), is_exit = !strcmp(op, "exit");
	sb_putn(out, "{\"id\":", 6);
	sb_putn(out, id, idlen);
	if (is_fork) {
		if (!valid_name(child) || find_proc(child)) {
			sb_puts(out, ",\"error\":\"fork needs args.child: a new process name ([A-Za-z0-9_.-], unused)\"}");
			free(req.b);
			return;
		}
		if (chan_pair(sv) < 0) {
			sb_printf(out, ",\"ret\":%d,\"errno\":%d,\"errname\":\"%s\"}", -errno, errno, errname(errno));
			free(req.b);
			return;
		}
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
	}
	ssize_t sent;
	while ((sent = sendmsg(p->sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	free(req.b);
	if (sv[1] >= 0)
		close(sv[1]);
	if (sent < 0) {
		report_dead(p, out, 0);
		if (sv[0] >= 0)
			close(sv[0]);
		return;
	}

	long long deadline = now_ms() + timeout + 2000;
	static char rbuf[MSG_MAX];
	for (;;) {
		struct pollfd pf = { p->sock, POLLIN, 0 };
		long long left = deadline - now_ms();
		int r = left > 0 ? poll(&pf, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR) {
			if (stop_requested) {
				proc_kill(p);
				proc_gone(p);
				sb_puts(out, ",\"error\":\"runner stopping\"}");
				break;
			}
			continue;
		}
		if (r == 0) {
			/* the worker did not answer: it hangs where even SIGALRM cannot reach */
			proc_kill(p);
			wait_exit(p, now_ms() + 2000);
			proc_gone(p);
			sb_printf(out, ",\"error\":\"timeout\",\"detail\":\"process %s did not answer within %lld ms and was killed\"}",
				  p->name, timeout + 2000);
			break;
		}
		struct iovec riov = { rbuf, sizeof rbuf - 1 };
		char rc[CMSG_SPACE(sizeof(int) * 4)];
		struct msghdr rh;
		memset(&rh, 0, sizeof rh);
		rh.msg_iov = &riov;
		rh.msg_iovlen = 1;
		rh.msg_control = rc;
		rh.msg_controllen = sizeof rc;
		ssize_t n = recvmsg(p->sock, &rh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			report_dead(p, out, is_exit); /* EOF: the process is gone */
			break;
		}
		rbuf[n] = 0;
		int fd = -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&rh); c; c = CMSG_NXTHDR(&rh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(c), sizeof(int));
		int pipe_note = -1;
		if (fd >= 0) {
			/* a pipe: keep a copy of its read end, so it can be read after the process exits */
			const char *q = strstr(rbuf, "\"rfd\":");
			if (q && npipes < MAX_PIPES) {
				struct rpipe *rp = &pipes[npipes];
				snprintf(rp->proc, sizeof rp->proc, "%s", p->name);
				rp->rfd_in_proc = atoi(q + 6);
				/* the open file description is shared with the process: never make it
				 * O_NONBLOCK here (that would change the process's reads); poll instead */
				rp->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
				close(fd);
				pipe_note = npipes++;
			} else {
				close(fd);
			}
		}
		sb_puts(out, ",");
		const char *ob = pipe_note >= 0 ? strstr(rbuf, "\"obs\":{") : NULL;
		if (ob) {
			/* the runner's handle for the pipe goes into obs */
			ob += 7;
			sb_putn(out, rbuf, (size_t)(ob - rbuf));
			sb_printf(out, "\"pipe\":%d,", pipe_note);
			sb_puts(out, ob);
		} else {
			sb_putn(out, rbuf, (size_t)n);
		}
		if (is_fork) {
			long long ret = 0;
			const char *q = strstr(rbuf, "\"ret\":");
			if (q)
				ret = strtoll(q + 6, NULL, 10);
			if (ret > 0) {
				if (!proc_add(child, (pid_t)ret, sv[0], 0))
					close(sv[0]);
				sv[0] = -1;
			}
		}
		sb_puts(out, "}");
		break;
	}
	if (sv[0] >= 0)
		close(sv[0]);
}

/* --- observations (read by the runner from /proc) --------------------- */

static int pread_u64(int fd, unsigned long long index, uint64_t *v)
{
	return pread(fd, v, 8, (off_t)(index * 8)) == 8 ? 0 : -1;
}

static long long obs_pagemap(struct proc *p, const jv *args, sb *obs)
{
	NUM(addr, "addr");
	OPT(len, "len", (long long)PAGE);
	unsigned long first = (unsigned long)addr / PAGE;
	unsigned long last = ((unsigned long)addr + (unsigned long)len + PAGE - 1) / PAGE;
	if (last <= first)
		last = first + 1;
	if (last - first > PAGEMAP_MAX_PAGES) {
		snprintf(argerr, sizeof argerr, "pagemap: at most %d pages per step", PAGEMAP_MAX_PAGES);
		return BADARG;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)p->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -(long long)errno;
	int kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	int kc = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	sb_field(obs, "pages");
	sb_puts(obs, "[");
	long long ret = 0;
	for (unsigned long i = first; i < last; i++) {
		uint64_t e = 0;
		if (pread_u64(fd, i, &e) < 0) {
			ret = -(long long)errno;
			break;
		}
		int present = (int)(e >> 63 & 1), swapped = (int)(e >> 62 & 1);
		uint64_t pfn = present ? e & ((1ULL << 55) - 1) : 0;
		sb_printf(obs, "%s{\"present\":%s,\"swap\":%s,\"exclusive\":%s,\"file\":%s,\"soft_dirty\":%s,\"uffd_wp\":%s,\"guard\":%s",
			  i > first ? "," : "", present ? "true" : "false", swapped ? "true" : "false",
			  e >> 56 & 1 ? "true" : "false", e >> 61 & 1 ? "true" : "false", e >> 55 & 1 ? "true" : "false",
			  e >> 57 & 1 ? "true" : "false", e >> 58 & 1 ? "true" : "false");
		if (present) {
			sb_printf(obs, ",\"pfn\":%llu", (unsigned long long)pfn);
			uint64_t f = 0, c = 0;
			if (kf >= 0 && pfn && pread_u64(kf, pfn, &f) == 0)
				sb_printf(obs,
					  ",\"kflags\":%llu,\"anon\":%s,\"thp\":%s,\"hugetlb\":%s,\"ksm\":%s,\"zero\":%s,\"head\":%s,\"tail\":%s,\"mlocked\":%s,\"dirty\":%s",
					  (unsigned long long)f, f >> 12 & 1 ? "true" : "false", f >> 22 & 1 ? "true" : "false",
					  f >> 17 & 1 ? "true" : "false", f >> 21 & 1 ? "true" : "false",
					  f >> 24 & 1 ? "true" : "false", f >> 15 & 1 ? "true" : "false",
					  f >> 16 & 1 ? "true" : "false", f >> 33 & 1 ? "true" : "false",
					  f >> 4 & 1 ? "true" : "false");
			if (kc >= 0 && pfn && pread_u64(kc, pfn, &c) == 0)
				sb_printf(obs, ",\"mapcount\":%llu", (unsigned long long)c);
		}
		sb_puts(obs, "}");
	}
	sb_puts(obs, "]");
	close(fd);
	if (kf >= 0)
		close(kf);
	if (kc >= 0)
		close(kc);
	return ret;
}

/* pfn / anon_exclusive: one pagemap entry as a number, like the model's translate(). */
static long long obs_pfn(struct proc *p, const jv *args, int exclusive_bit, sb *obs)
{
	NUM(addr, "addr");
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)p->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -(long long)errno;
	uint64_t e = 0;
	int r = pread_u64(fd, (unsigned long long)addr / PAGE, &e);
	long long err = -(long long)errno;
	close(fd);
	if (r < 0)
		return err;
	if (!(e >> 63 & 1)) {
		sb_field(obs, "present");
		sb_puts(obs, "false");
		return -EFAULT; /* nothing mapped there now */
	}
	if (exclusive_bit)
		return (long long)(e >> 56 & 1);
	return (long long)(e & ((1ULL << 55) - 1));
}

/* One VMA line of /proc/PID/maps. */
struct vma {
	unsigned long start, end, off;
	unsigned long inode;
	char perms[8];
	char path[PATH_MAX];
};

static int find_vma(pid_t pid, unsigned long addr, struct vma *out)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[PATH_MAX + 128];
	int found = -EFAULT;
	while (fgets(line, sizeof line, f)) {
		struct vma v;
		memset(&v, 0, sizeof v);
		int pos = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %lu %n", &v.start, &v.end, v.perms, &v.off, &v.inode, &pos) < 5)
			continue;
		if (addr < v.start || addr >= v.end)
			continue;
		char *nl = strchr(line + pos, '\n');
		if (nl)
			*nl = 0;
		snprintf(v.path, sizeof v.path, "%s", line + pos);
		*out = v;
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/* What a process would read at addr, without faulting anything in. */
static long long obs_peek(struct proc *p, const jv *args, sb *obs)
{
	NUM(addr, "addr");
	OPT(len, "len", (long long)PAGE);
	unsigned long first = ((unsigned long)addr) & ~(PAGE - 1);
	unsigned long end = (unsigned long)addr + (unsigned long)(len > 0 ? len : 1);
	if ((end - first) / PAGE > PAGEMAP_MAX_PAGES) {
		snprintf(argerr, sizeof argerr, "peek: at most %d pages per step", PAGEMAP_MAX_PAGES);
		return BADARG;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", (int)p->pid);
	int pm = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof path, "/proc/%d/mem", (int)p->pid);
	int mem = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0 || mem < 0) {
		long long e = -(long long)errno;
		if (pm >= 0)
			close(pm);
		if (mem >= 0)
			close(mem);
		return e;
	}
	runs r;
	runs_begin(&r, obs, "runs");
	long long firstval = -EFAULT;
	for (unsigned long a = first; a < end; a += PAGE) {
		uint64_t e = 0;
		long long v = -1;
		pread_u64(pm, a / PAGE, &e);
		if (e >> 63 & 1) {
			/* present: /proc/PID/mem reads it with FOLL_GET, which never unshares or faults */
			uint32_t w;
			if (pread(mem, &w, 4, (off_t)a) == 4)
				v = w;
		} else {
			struct vma vm;
			memset(&vm, 0, sizeof vm);
			if (find_vma(p->pid, a, &vm) == 0) {
				if (vm.inode == 0) {
					v = 0; /* anonymous and not present: reads as zero */
				} else {
					char mf[128];
					snprintf(mf, sizeof mf, "/proc/%d/map_files/%lx-%lx", (int)p->pid, vm.start, vm.end);
					int fd = open(mf, O_RDONLY | O_CLOEXEC);
					uint32_t w = 0;
					if (fd >= 0) {
						ssize_t got = pread(fd, &w, 4, (off_t)(vm.off + (a - vm.start)));
						v = got == 4 ? (long long)w : -1;
						close(fd);
					}
				}
			}
		}
		if (a == first)
			firstval = v >= 0 ? v : -EFAULT;
		runs_add(&r, v);
	}
	runs_end(&r);
	close(pm);
	close(mem);
	return firstval;
}

static long long obs_status(struct proc *p, sb *obs)
{
	char path[64], buf[8192];
	snprintf(path, sizeof path, "/proc/%d/status", (int)p->pid);
	if (read_file(path, buf, sizeof buf) < 0)
		return -(long long)errno;
	static const char *keys[] = { "VmPin", "VmLck", "VmRSS", "RssAnon", "RssFile", "RssShmem", "HugetlbPages", "VmSize", NULL };
	for (int i = 0; keys[i]; i++) {
		char pat[32];
		snprintf(pat, sizeof pat, "\n%s:", keys[i]);
		char *q = strstr(buf, pat);
		if (!q)
			continue;
		sb_field(obs, keys[i]);
		sb_printf(obs, "%llu", strtoull(q + strlen(pat), NULL, 10));
	}
	return 0;
}

static long long obs_smaps(struct proc *p, const jv *args, sb *obs)
{
	OPT(addr, "addr", 0);
	OPT(len, "len", 0);
	unsigned long lo = (unsigned long)addr, hi = len > 0 ? (unsigned long)(addr + len) : ~0UL;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)p->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -(long long)errno;
	static const char *keys[] = { "Rss", "Anonymous", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped",
				      "Shared_Hugetlb", "Private_Hugetlb", "Locked", "KSM", "Swap", NULL };
	unsigned long long sum[16] = { 0 };
	char line[PATH_MAX + 128];
	int in = 0, nv = 0;
	sb vmas = { 0 };
	while (fgets(line, sizeof line, f)) {
		unsigned long s, e;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &s, &e, perms) == 3 && strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				sb_puts(&vmas, "}");
			in = s < hi && e > lo;
			if (in)
				sb_printf(&vmas, "%s{\"start\":%lu,\"end\":%lu,\"perms\":\"%s\"", nv++ ? "," : "", s, e, perms);
			continue;
		}
		if (!in)
			continue;
		for (int i = 0; keys[i]; i++) {
			size_t kl = strlen(keys[i]);
			if (!strncmp(line, keys[i], kl) && line[kl] == ':') {
				unsigned long long v = strtoull(line + kl + 1, NULL, 10);
				sum[i] += v;
				sb_printf(&vmas, ",\"%s\":%llu", keys[i], v);
			}
		}
		if (!strncmp(line, "THPeligible:", 12))
			sb_printf(&vmas, ",\"THPeligible\":%d", atoi(line + 12));
	}
	if (in)
		sb_puts(&vmas, "}");
	fclose(f);
	for (int i = 0; keys[i]; i++) {
		sb_field(obs, keys[i]);
		sb_printf(obs, "%llu", sum[i]);
	}
	sb_field(obs, "vmas");
	sb_printf(obs, "[%s]", vmas.b ? vmas.b : "");
	free(vmas.b);
	return 0;
}

static long long obs_vmstat(const jv *args, sb *obs)
{
	/* fold the per-CPU counters first (root only; harmless otherwise) */
	int refreshed = write_file("/proc/sys/vm/stat_refresh", "1") == 0;
	static char buf[65536];
	if (read_file("/proc/vmstat", buf, sizeof buf) < 0)
		return -(long long)errno;
	static const char *dflt[] = { "nr_foll_pin_acquired", "nr_foll_pin_released", "thp_fault_alloc",
				      "thp_collapse_alloc", "thp_split_page", "thp_split_page_failed",
				      "thp_split_pmd", "thp_deferred_split_page", "pgmigrate_success",
				      "pgmigrate_fail", "cow_ksm", "ksm_swpin_copy", "nr_anon_transparent_hugepages",
				      "nr_mlock", "compact_success", "compact_fail", NULL };
	jv *names = jget(args, "names");
	const char *want[128];
	int nw = 0;
	if (names && names->t == J_ARR) {
		for (jv *e = names->first; e && nw < 127; e = e->next)
			if (e->t == J_STR)
				want[nw++] = e->s;
	} else {
		for (; dflt[nw]; nw++)
			want[nw] = dflt[nw];
	}
	sb_field(obs, "refreshed");
	sb_puts(obs, refreshed ? "true" : "false");
	sb_field(obs, "counters");
	sb_puts(obs, "{");
	int first = 1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		for (int i = 0; i < nw; i++)
			if (!strcmp(want[i], line)) {
				sb_printf(obs, "%s\"%s\":%s", first ? "" : ",", line, sp + 1);
				first = 0;
			}
	}
	sb_puts(obs, "}");
	return 0;
}

static long long obs_keyvals(const char *path, sb *obs)
{
	char buf[8192];
	if (read_file(path, buf, sizeof buf) < 0)
		return -(long long)errno;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = line + strcspn(line, " :\t");
		if (!*sp)
			continue;
		*sp++ = 0;
		while (*sp == ' ' || *sp == ':' || *sp == '\t')
			sp++;
		char *end;
		long long v = strtoll(sp, &end, 10);
		sb_field(obs, line);
		if (end != sp && (*end == 0 || *end == ' '))
			sb_printf(obs, "%lld", v);
		else
			sb_jstr(obs, sp, strlen(sp));
	}
	return 0;
}

/* --- knobs, the hugetlb pool, mounts ------------------------------------ */

static int knob_allowed(const char *path)
{
	if (strstr(path, ".."))
		return 0;
	return !strncmp(path, "/proc/sys/vm/", 13) || !strncmp(path, "/sys/kernel/mm/", 15) ||
	       !strcmp(path, "/proc/sys/kernel/numa_balancing");
}

/* "always [madvise] never" -> "madvise"; otherwise the trimmed text. */
static void knob_value(const char *raw, char *out, size_t cap)
{
	const char *lb = strchr(raw, '['), *rb = lb ? strchr(lb, ']') : NULL;
	if (lb && rb) {
		snprintf(out, cap, "%.*s", (int)(rb - lb - 1), lb + 1);
		return;
	}
	while (isspace((unsigned char)*raw))
		raw++;
	snprintf(out, cap, "%s", raw);
	size_t n = strlen(out);
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = 0;
}

static long long set_knob(const char *path, const char *value, sb *obs)
{
	if (!knob_allowed(path)) {
		snprintf(argerr, sizeof argerr, "set_knob: only /proc/sys/vm/*, /sys/kernel/mm/* may be changed");
		return BADARG;
	}
	char raw[512], orig[128];
	if (read_file(path, raw, sizeof raw) < 0)
		return -(long long)errno;
	knob_value(raw, orig, sizeof orig);
	int known = 0;
	for (int i = 0; i < nknobs; i++)
		if (!strcmp(knobs[i].path, path))
			known = 1;
	if (!known) {
		if (nknobs >= 64)
			return -ENOSPC;
		snprintf(knobs[nknobs].path, sizeof knobs[nknobs].path, "%s", path);
		snprintf(knobs[nknobs].orig, sizeof knobs[nknobs].orig, "%s", orig);
		nknobs++;
		sb s = { 0 };
		sb_puts(&s, "{\"t\":\"knob\",\"path\":");
		sb_jstr(&s, path, strlen(path));
		sb_puts(&s, ",\"orig\":");
		sb_jstr(&s, orig, strlen(orig));
		sb_puts(&s, "}");
		journal("%s", s.b); /* write-ahead: before the change */
		free(s.b);
	}
	sb_field(obs, "orig");
	sb_jstr(obs, orig, strlen(orig));
	int r = write_file(path, value);
	if (read_file(path, raw, sizeof raw) >= 0) {
		char now[128];
		knob_value(raw, now, sizeof now);
		sb_field(obs, "value");
		sb_jstr(obs, now, strlen(now));
	}
	return r;
}

static void restore_knobs(void)
{
	for (int i = nknobs - 1; i >= 0; i--)
		write_file(knobs[i].path, knobs[i].orig);
	nknobs = 0;
}

static long long do_mount(const jv *args, sb *obs)
{
	const char *kind = jstr(jget(args, "kind"));
	if (!kind) {
		snprintf(argerr, sizeof argerr, "missing argument kind (ext4, tmpfs, hugetlbfs)");
		return BADARG;
	}
	char dir[PATH_MAX + 64];
	for (int i = 0; i < 100; i++) {
		snprintf(dir, sizeof dir, "%s/%s-%d", rundir, kind, i);
		if (access(dir, F_OK) < 0)
			break;
	}
	if (!strcmp(kind, "ext4")) {
		if (!rundir_is_ext4) {
			sb_field(obs, "reason");
			sb_puts(obs, "\"the run directory is not on ext4\"");
			return -ENODEV;
		}
		if (mkdir(dir, 0700) < 0)
			return -(long long)errno;
	} else if (!strcmp(kind, "tmpfs") || !strcmp(kind, "hugetlbfs")) {
		if (nmounts >= 16)
			return -ENOSPC;
		if (mkdir(dir, 0700) < 0)
			return -(long long)errno;
		char opts[64] = "";
		if (!strcmp(kind, "hugetlbfs")) {
			long long ps = 2 << 20;
			arg_num(args, "pagesize", &ps);
			snprintf(opts, sizeof opts, "pagesize=%lld", ps);
		} else {
			snprintf(opts, sizeof opts, "size=%s", "50%");
		}
		sb s = { 0 };
		sb_puts(&s, "{\"t\":\"mount\",\"path\":");
		sb_jstr(&s, dir, strlen(dir));
		sb_puts(&s, "}");
		journal("%s", s.b);
		free(s.b);
		if (mount(kind, dir, kind, MS_NOSUID | MS_NODEV, opts) < 0) {
			long long e = -(long long)errno;
			rmdir(dir);
			return e;
		}
		snprintf(mounts[nmounts++], PATH_MAX, "%s", dir);
	} else {
		sb_field(obs, "reason");
		sb_puts(obs, "\"only ext4 (a directory on the run dir), tmpfs and hugetlbfs are available\"");
		return -ENODEV;
	}
	sb_field(obs, "path");
	sb_jstr(obs, dir, strlen(dir));
	return 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* --- cleanup ------------------------------------------------------------ */

static void cleanup_all(void)
{
	/* 1. ask every live worker to unregister its buffers, close its ring and exit */
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = &procs[i];
		if (!p->alive || p->sock < 0)
			continue;
		const char *m = "{\"op\":\"__cleanup\"}";
		send(p->sock, m, strlen(m), MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	long long deadline = now_ms() + 3000;
	for (int i = 0; i < nprocs; i++) {
		struct proc *p = &procs[i];
		if (!p->alive)
			continue;
		if (wait_exit(p, deadline) < 0) {
			proc_kill(p);
			wait_exit(p, now_ms() + 2000);
		}
		proc_gone(p);
	}
	reap();
	for (int i = 0; i < nprocs; i++) {
		if (procs[i].pidfd >= 0)
			close(procs[i].pidfd);
		procs[i].pidfd = -1;
	}
	for (int i = 0; i < npipes; i++)
		close(pipes[i].fd);
	npipes = 0;
	/* 2. mounts, then the run directory */
	for (int i = nmounts - 1; i >= 0; i--)
		if (umount2(mounts[i], 0) < 0)
			umount2(mounts[i], MNT_DETACH);
	nmounts = 0;
	if (rundir[0] && rundir_owned)
		nftw(rundir, rm_cb, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	/* 3. knobs and the hugetlb pool, in reverse order of change */
	restore_knobs();
	journal("{\"t\":\"clean\"}");
}

/* --- the runner's own operations --------------------------------------- */

static long long ksm_wait(const jv *args, sb *obs, long long timeout)
{
	OPT(scans, "scans", 2);
	char buf[64];
	if (read_file("/sys/kernel/mm/ksm/full_scans", buf, sizeof buf) < 0)
		return -(long long)errno;
	long long start = atoll(buf), cur = start;
	long long deadline = now_ms() + timeout;
	while (cur < start + scans && now_ms() < deadline && !stop_requested) {
		sleep_ms(20);
		if (read_file("/sys/kernel/mm/ksm/full_scans", buf, sizeof buf) >= 0)
			cur = atoll(buf);
	}
	sb_field(obs, "full_scans");
	sb_printf(obs, "%lld", cur - start);
	return cur >= start + scans ? 0 : -ETIMEDOUT;
}

static void info(sb *obs)
{
	struct utsname u;
	uname(&u);
	char thp[256] = "", thpv[64] = "";
	if (read_file("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp) >= 0)
		knob_value(thp, thpv, sizeof thpv);
	sb_field(obs, "version");
	sb_printf(obs, "%d", RUNNER_VERSION);
	sb_field(obs, "pid");
	sb_printf(obs, "%d", (int)getpid());
	sb_field(obs, "kernel");
	sb_jstr(obs, u.release, strlen(u.release));
	sb_field(obs, "rundir");
	sb_jstr(obs, rundir, strlen(rundir));
	sb_field(obs, "ext4");
	sb_puts(obs, rundir_is_ext4 ? "true" : "false");
	sb_field(obs, "thp");
	sb_jstr(obs, thpv, strlen(thpv));
	sb_field(obs, "page_size");
	sb_printf(obs, "%ld", sysconf(_SC_PAGESIZE));
	sb_field(obs, "root");
	sb_puts(obs, geteuid() == 0 ? "true" : "false");
	sb_field(obs, "as_limit_mb");
	sb_printf(obs, "%lld", as_limit_mb);
}

static const char *runner_ops[] = { "spawn",  "pagemap", "pfn", "anon_exclusive", "peek",   "status",	"smaps", "vmstat",  "ksm_stat",
				    "set_knob", "get_knob", "nr_hugepages", "mount", "pipe_read", "kill", "ksm_wait",
				    "info",   "shutdown", "sleep_runner", NULL };

static int is_runner_op(const char *op)
{
	for (int i = 0; runner_ops[i]; i++)
		if (!strcmp(runner_ops[i], op))
			return 1;
	return 0;
}

static long long runner_op(const char *op, const char *procname, const jv *args, long long timeout, sb *obs)
{
	struct proc *p = procname ? find_proc(procname) : NULL;
	int needs_proc = !strcmp(op, "pagemap") || !strcmp(op, "pfn") || !strcmp(op, "anon_exclusive") || !strcmp(op, "peek") || !strcmp(op, "status") ||
			 !strcmp(op, "smaps") || !strcmp(op, "ksm_stat") || !strcmp(op, "kill");
	if (needs_proc && (!p || !p->alive)) {
		snprintf(argerr, sizeof argerr, "%s: no running process %s", op, procname ? procname : "(none given)");
		return BADARG;
	}
	if (!strcmp(op, "spawn")) {
		if (!valid_name(procname)) {
			snprintf(argerr, sizeof argerr, "spawn: proc must be a name of [A-Za-z0-9_.-]");
			return BADARG;
		}
		return spawn_worker(procname, obs);
	}
	if (!strcmp(op, "pagemap"))
		return obs_pagemap(p, args, obs);
	if (!strcmp(op, "pfn") || !strcmp(op, "anon_exclusive"))
		return obs_pfn(p, args, op[0] == 'a', obs);
	if (!strcmp(op, "peek"))
		return obs_peek(p, args, obs);
	if (!strcmp(op, "status"))
		return obs_status(p, obs);
	if (!strcmp(op, "smaps"))
		return obs_smaps(p, args, obs);
	if (!strcmp(op, "vmstat"))
		return obs_vmstat(args, obs);
	if (!strcmp(op, "ksm_stat")) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ksm_stat", (int)p->pid);
		return obs_keyvals(path, obs);
	}
	if (!strcmp(op, "set_knob") || !strcmp(op, "nr_hugepages")) {
		char path[256], val[128];
		const char *value;
		if (!strcmp(op, "nr_hugepages")) {
			OPT(size, "size", 2 << 20);
			NUM(count, "count");
			snprintf(path, sizeof path, "/sys/kernel/mm/hugepages/hugepages-%lldkB/nr_hugepages", size >> 10);
			snprintf(val, sizeof val, "%lld", count);
			value = val;
		} else {
			const char *ps = jstr(jget(args, "path"));
			jv *vv = jget(args, "value");
			if (!ps || !vv || (vv->t != J_STR && vv->t != J_NUM)) {
				snprintf(argerr, sizeof argerr, "set_knob needs path and value");
				return BADARG;
			}
			snprintf(path, sizeof path, "%s", ps);
			snprintf(val, sizeof val, "%.*s", (int)vv->slen, vv->s);
			value = val;
		}
		return set_knob(path, value, obs);
	}
	if (!strcmp(op, "get_knob")) {
		const char *ps = jstr(jget(args, "path"));
		if (!ps) {
			snprintf(argerr, sizeof argerr, "get_knob needs path");
			return BADARG;
		}
		char raw[4096], v[128];
		if (read_file(ps, raw, sizeof raw) < 0)
			return -(long long)errno;
		knob_value(raw, v, sizeof v);
		sb_field(obs, "value");
		sb_jstr(obs, v, strlen(v));
		return 0;
	}
	if (!strcmp(op, "mount"))
		return do_mount(args, obs);
	if (!strcmp(op, "pipe_read")) {
		NUM(idx, "pipe");
		NUM(len, "len");
		if (idx < 0 || idx >= npipes) {
			snprintf(argerr, sizeof argerr, "pipe_read: no pipe %lld", idx);
			return BADARG;
		}
		char *buf = malloc((size_t)len + 8);
		if (!buf)
			return -ENOMEM;
		size_t got = 0;
		long long ret = 0;
		while (got < (size_t)len) {
			struct pollfd pf = { pipes[idx].fd, POLLIN, 0 };
			if (poll(&pf, 1, 0) <= 0) {
				if (got == 0)
					ret = -EAGAIN; /* empty: the runner never blocks on a pipe */
				break;
			}
			if (!(pf.revents & POLLIN))
				break; /* POLLHUP without data: every writer is gone */
			ssize_t r = read(pipes[idx].fd, buf + got, (size_t)len - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r < 0 && got == 0)
					ret = -(long long)errno;
				break;
			}
			got += (size_t)r;
		}
		if (got) {
			ret = (long long)got;
			words_of(obs, "runs", buf, got);
		}
		free(buf);
		return ret;
	}
	if (!strcmp(op, "kill")) {
		OPT(sig, "signal", SIGKILL);
		if (p->pidfd >= 0)
			return sysret(syscall(__NR_pidfd_send_signal, p->pidfd, (int)sig, NULL, 0));
		return sysret(kill(p->pid, (int)sig));
	}
	if (!strcmp(op, "ksm_wait"))
		return ksm_wait(args, obs, timeout);
	if (!strcmp(op, "sleep_runner")) {
		NUM(ms, "ms");
		sleep_ms((long)ms);
		return 0;
	}
	if (!strcmp(op, "info")) {
		info(obs);
		return 0;
	}
	if (!strcmp(op, "shutdown")) {
		stop_requested = 1;
		return 0;
	}
	snprintf(argerr, sizeof argerr, "unknown op %s", op);
	return BADARG;
}

static void handle_line(char *line, size_t len)
{
	sb out = { 0 }, obs = { 0 };
	const char *err = NULL;
	jv *root = jparse(line, len, &err);
	jv *idv = jget(root, "id");
	const char *id = idv ? idv->raw : "null";
	size_t idlen = idv ? idv->rawlen : 4;
	const char *op = jstr(jget(root, "op"));
	const char *procname = jstr(jget(root, "proc"));
	jv *args = jget(root, "args");
	long long timeout = DEFAULT_TIMEOUT_MS;
	if (root && arg_num(root, "timeout_ms", &timeout) < 0)
		timeout = DEFAULT_TIMEOUT_MS;
	if (timeout <= 0 || timeout > 600000)
		timeout = DEFAULT_TIMEOUT_MS;
	argerr[0] = 0;

	if (op && op[0] == '_') {
		sb_putn(&out, "{\"id\":", 6);
		sb_putn(&out, id, idlen);
		sb_puts(&out, ",\"error\":\"unknown op (ops starting with _ are internal)\"}");
	} else if (!root || root->t != J_OBJ || !op) {
		sb_putn(&out, "{\"id\":", 6);
		sb_putn(&out, id, idlen);
		sb_puts(&out, ",\"error\":");
		const char *m = err ? err : "a step is {id, proc, op, args}";
		sb_jstr(&out, m, strlen(m));
		sb_puts(&out, "}");
	} else if (is_runner_op(op)) {
		long long ret = runner_op(op, procname, args, timeout, &obs);
		sb_putn(&out, "{\"id\":", 6);
		sb_putn(&out, id, idlen);
		if (ret == BADARG) {
			sb_puts(&out, ",\"error\":");
			sb_jstr(&out, argerr, strlen(argerr));
		} else {
			int e = ret < 0 && ret >= -4095 ? (int)-ret : 0;
			sb_printf(&out, ",\"ret\":%lld,\"errno\":%d", ret, e);
			if (e)
				sb_printf(&out, ",\"errname\":\"%s\"", errname(e));
			if (obs.n)
				sb_printf(&out, ",\"obs\":{%s}", obs.b);
		}
		sb_puts(&out, "}");
	} else {
		struct proc *p = procname ? find_proc(procname) : NULL;
		if (!p || !p->alive) {
			sb_putn(&out, "{\"id\":", 6);
			sb_putn(&out, id, idlen);
			if (p && p->have_status && WIFSIGNALED(p->wstatus))
				sb_printf(&out, ",\"error\":\"crashed\",\"detail\":\"process %s died with signal %s\"}", p->name,
					  sigabbrev_np(WTERMSIG(p->wstatus)) ? sigabbrev_np(WTERMSIG(p->wstatus)) : "?");
			else if (p)
				sb_printf(&out, ",\"error\":\"no running process %s (it exited)\"}", p->name);
			else
				sb_printf(&out, ",\"error\":\"no running process %s\"}", procname ? procname : "(proc missing)");
		} else {
			long long tpid = 0;
			jv *target = jget(args, "target");
			const char *tname = jstr(target);
			int bad = 0;
			if (tname) {
				struct proc *t = find_proc(tname);
				if (t && t->alive)
					tpid = t->pid;
				else
					bad = 1;
			} else if (target && arg_num(args, "target", &tpid) < 0) {
				bad = 1;
			}
			if (bad) {
				sb_putn(&out, "{\"id\":", 6);
				sb_putn(&out, id, idlen);
				sb_puts(&out, ",\"error\":\"args.target: no running process of that name\"}");
			} else {
				const char *child = jstr(jget(args, "child"));
				forward(p, id, idlen, op, args, tpid, timeout, child, &out);
			}
		}
	}
	out_line(&out);
	free(out.b);
	free(obs.b);
	reap();
}

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(void)
{
	fputs("usage: pinlab-runner [--rundir DIR] [--journal FILE] [--as-limit-mb N] [--lock FILE]\n"
	      "Reads steps as JSON lines on stdin, writes results as JSON lines on stdout.\n"
	      "See docs/oracle-protocol.md.\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *rd = NULL, *jp = NULL, *lock_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rundir") && i + 1 < argc)
			rd = argv[++i];
		else if (!strcmp(argv[i], "--journal") && i + 1 < argc)
			jp = argv[++i];
		else if (!strcmp(argv[i], "--as-limit-mb") && i + 1 < argc)
			as_limit_mb = atoll(argv[++i]);
		else if (!strcmp(argv[i], "--lock") && i + 1 < argc)
			lock_path = argv[++i];
		else
			usage();
	}
	/* One run at a time on this machine: runs change machine-wide state (the hugetlb pool,
	 * the THP mode, ksmd, sysctls). The lock goes with the last process holding the file
	 * (workers inherit it), so a killed run keeps it until its processes are gone. */
	if (lock_path) {
		int lfd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lfd < 0)
			die("cannot open lock %s: %s", lock_path, strerror(errno));
		while (flock(lfd, LOCK_EX) < 0)
			if (errno != EINTR)
				die("cannot lock %s: %s", lock_path, strerror(errno));
		move_fd_high(lfd, 11);
	}
	arena_cap = 4 * MSG_MAX;
	arena = malloc(arena_cap);
	if (!arena)
		die("out of memory");

	if (jp) {
		snprintf(journal_path, sizeof journal_path, "%s", jp);
		journal_fd = open(journal_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (journal_fd < 0)
			die("cannot open journal %s: %s", jp, strerror(errno));
		journal_fd = move_fd_high(journal_fd, 10);
	}
	if (rd) {
		snprintf(rundir, sizeof rundir, "%s", rd);
		if (mkdir(rundir, 0700) < 0 && errno != EEXIST)
			die("cannot create run directory %s: %s", rd, strerror(errno));
	} else {
		snprintf(rundir, sizeof rundir, "/tmp/pinlab-oracle-XXXXXX");
		if (!mkdtemp(rundir))
			die("cannot create a run directory under /tmp: %s", strerror(errno));
	}
	rundir_owned = 1;
	journal("{\"t\":\"runner\",\"pid\":%d,\"start\":%llu,\"rundir\":\"%s\"}", (int)getpid(),
		proc_starttime(getpid()), rundir);
	struct statfs sf;
	rundir_is_ext4 = statfs(rundir, &sf) == 0 && sf.f_type == EXT4_SUPER_MAGIC;

	/* The memory bound: address space of the runner and every process it makes. */
	if (as_limit_mb > 0) {
		struct rlimit rl = { (rlim_t)as_limit_mb << 20, (rlim_t)as_limit_mb << 20 };
		setrlimit(RLIMIT_AS, &rl);
	}
	/* Orphans (a forked child whose parent exited) come back to us to be reaped. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* If the client dies, the pipe closes and we clean up; SIGTERM etc. too. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sb hello = { 0 }, hobs = { 0 };
	info(&hobs);
	sb_printf(&hello, "{\"hello\":{%s}}", hobs.b);
	out_line(&hello);
	free(hello.b);
	free(hobs.b);

	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		die("out of memory");
	while (!stop_requested) {
		char *nl = memchr(buf, '\n', n);
		if (nl) {
			size_t ll = (size_t)(nl - buf);
			*nl = 0;
			if (ll > 0)
				handle_line(buf, ll);
			memmove(buf, nl + 1, n - ll - 1);
			n -= ll + 1;
			continue;
		}
		if (n + 4096 > cap) {
			if (cap >= 4 * MSG_MAX) {
				sb e = { 0 };
				sb_puts(&e, "{\"id\":null,\"error\":\"request line too long\"}");
				out_line(&e);
				free(e.b);
				n = 0;
				continue;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				die("out of memory");
			buf = nb;
		}
		ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	cleanup_all();
	free(buf);
	return 0;
}
