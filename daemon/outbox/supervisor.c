/*
 * supervisor.c - the local workers named in the config: started with the jobs endpoint
 * (thidua-web with the web socket instead: it serves pages, it takes no jobs),
 * restarted with backoff when they exit (like Postfix's master), every exit logged.
 * SIGCHLD arrives through the daemon's signalfd; nothing runs in a signal handler.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "supervisor.h"
#include "thiduad.h"
#include "xalloc.h"

#define MAX_CHILDREN 128

struct child {
	const struct worker_spec *spec;	/* in the config that started it */
	char *program;
	char **args;
	pid_t pid;
	int64_t started_ms, restart_at_ms;
	int delay_ms;
};

static struct child children[MAX_CHILDREN];
static void (*on_exit_fn)(struct daemon *d, long pid);	/* jobs.c: its worker is gone */

/* supervisor_on_exit - who is told when a local worker exits (jobs.c, at start-up) */
void supervisor_on_exit(void (*fn)(struct daemon *d, long pid))
{
	on_exit_fn = fn;
}
static size_t nchildren;

/* resolve - a bare program name is looked for next to thiduad itself */
static char *resolve(const char *program)
{
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (strchr(program, '/'))
		return xstrdup(program);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return xstrdup(program);
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return xstrdup(program);
	*slash = 0;
	return xasprintf("%s/%s", self, program);
}

/* local_endpoint - where a worker on this host connects to the jobs endpoint: a tcp one
 * bound to every address (tcp://\*:P, tcp://0.0.0.0:P) is reached on the loopback */
static void local_endpoint(const char *bound, char *buf, size_t size)
{
	static const char *const any[] = { "tcp://*:", "tcp://0.0.0.0:" };

	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (!strncmp(bound, any[i], strlen(any[i]))) {
			snprintf(buf, size, "tcp://127.0.0.1:%s", bound + strlen(any[i]));
			return;
		}
	xstrlcpy(buf, bound, size);
}

/* is_web - the gateway (thidua-web): given the web socket, stopped by a signal */
static int is_web(const struct child *c)
{
	const char *base = strrchr(c->program, '/');

	return !strcmp(base ? base + 1 : c->program, "thidua-web");
}

/* spawn - fork and exec one worker */
static void spawn(struct daemon *d, struct child *c)
{
	size_t n = strv_len(c->args);
	char **argv = xcalloc(n + 4, sizeof(char *)), endpoint[512];
	pid_t pid;

	local_endpoint(is_web(c) && d->web_endpoint ? d->web_endpoint : d->jobs_endpoint, endpoint, sizeof(endpoint));
	argv[0] = c->program;
	argv[1] = "-e";
	argv[2] = endpoint;
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = c->args[i];
	pid = fork();
	if (pid < 0) {
		log_err("supervisor: cannot start %s: %s", c->program, strerror(errno));
		c->restart_at_ms = clock_mono_ms() + c->delay_ms;
	} else if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);	/* the daemon blocks signals for its signalfd */
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* a worker does not outlive a crashed daemon */
		execv(c->program, argv);
		fprintf(stderr, "thiduad: cannot run %s: %s\n", c->program, strerror(errno));
		_exit(127);
	} else {
		c->pid = pid;
		c->started_ms = clock_mono_ms();
		c->restart_at_ms = 0;
		log_info("supervisor: started %s (pid %d)", c->program, (int)pid);
	}
	free(argv);
}

/* supervisor_start - start every worker of the config */
void supervisor_start(struct daemon *d)
{
	for (size_t i = 0; i < d->cfg->nworkers; i++) {
		const struct worker_spec *w = &d->cfg->workers[i];

		for (int k = 0; k < w->count && nchildren < MAX_CHILDREN; k++) {
			struct child *c = &children[nchildren++];

			memset(c, 0, sizeof(*c));
			c->program = resolve(w->program);
			for (size_t a = 0; w->args && w->args[a]; a++)
				c->args = strv_append(c->args, w->args[a]);
			c->delay_ms = 1000;
			spawn(d, c);
		}
	}
}

/* supervisor_reap - collect exited children; schedule their restart */
void supervisor_reap(struct daemon *d)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < nchildren; i++) {
			struct child *c = &children[i];
			int64_t ran;

			if (c->pid != pid)
				continue;
			ran = clock_mono_ms() - c->started_ms;
			if (WIFSIGNALED(status))
				log_err("supervisor: %s (pid %d) killed by signal %d after %lld ms", c->program, (int)pid,
					WTERMSIG(status), (long long)ran);
			else
				log_warn("supervisor: %s (pid %d) exited with status %d after %lld ms", c->program, (int)pid,
					 WEXITSTATUS(status), (long long)ran);
			if (on_exit_fn)
				on_exit_fn(d, (long)pid);
			c->pid = 0;
			if (ran > 60000)
				c->delay_ms = 1000;	/* it ran a while: start over gently */
			c->restart_at_ms = clock_mono_ms() + c->delay_ms;
			log_info("supervisor: restarting %s in %d ms", c->program, c->delay_ms);
			if (c->delay_ms < 60000)
				c->delay_ms *= 2;
		}
	}
}

/* supervisor_tick - restart what is due */
void supervisor_tick(struct daemon *d)
{
	int64_t now = clock_mono_ms();

	for (size_t i = 0; i < nchildren; i++)
		if (!children[i].pid && children[i].restart_at_ms && children[i].restart_at_ms <= now)
			spawn(d, &children[i]);
}

/* supervisor_timeout_ms - until the next restart */
long supervisor_timeout_ms(struct daemon *d)
{
	int64_t now = clock_mono_ms();
	long t = -1;

	(void)d;
	for (size_t i = 0; i < nchildren; i++) {
		if (!children[i].pid && children[i].restart_at_ms) {
			long ms = children[i].restart_at_ms <= now ? 0 : (long)(children[i].restart_at_ms - now);

			if (t < 0 || ms < t)
				t = ms;
		}
	}
	return t;
}

/* supervisor_stop - the workers were asked to stop over the socket; wait a little (not
 * once stop_at_once says a second signal came), then SIGTERM whoever is left, and reap */
/* supervisor_owns - pid is a worker this daemon started */
int supervisor_owns(long pid)
{
	for (size_t i = 0; pid > 0 && i < nchildren; i++)
		if (children[i].pid == (pid_t)pid)
			return 1;
	return 0;
}

void supervisor_stop(struct daemon *d, int (*stop_at_once)(struct daemon *d))
{
	int64_t deadline = clock_mono_ms() + 3000;

	/* the gateway is not on the jobs socket: it is told by its signal at once */
	for (size_t i = 0; i < nchildren; i++)
		if (children[i].pid && is_web(&children[i]))
			kill(children[i].pid, SIGTERM);
	for (;;) {
		int alive = 0;

		for (size_t i = 0; i < nchildren; i++) {
			if (children[i].pid && waitpid(children[i].pid, NULL, WNOHANG) == children[i].pid)
				children[i].pid = 0;
			alive |= children[i].pid != 0;
		}
		if (!alive || clock_mono_ms() > deadline || stop_at_once(d))
			break;
		usleep(10000);
	}
	for (size_t i = 0; i < nchildren; i++) {
		if (children[i].pid) {
			kill(children[i].pid, SIGTERM);
			waitpid(children[i].pid, NULL, 0);
		}
		free(children[i].program);
		strv_free(&children[i].args);
	}
	nchildren = 0;
}
