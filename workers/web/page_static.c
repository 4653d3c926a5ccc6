/*
 * page_static.c - /static/NAME: the style sheet, the page script and Chart.js, each
 * named here (nothing else of the file system is reachable), sent from its file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pages.h"
#include "web.h"

void page_static(struct web_req *r, struct web_resp *w)
{
	static const struct { const char *name, *type; int chartjs; } files[] = {
		{ "thidua.css", "text/css; charset=utf-8", 0 },
		{ "thidua.js", "text/javascript; charset=utf-8", 0 },
		{ "chart.js", "text/javascript; charset=utf-8", 1 },
	};
	char path[4096];
	struct stat st;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd;

		if (strcmp(r->args[0], files[i].name))
			continue;
		if (files[i].chartjs)
			snprintf(path, sizeof(path), "%s", web_opts.chartjs);
		else
			snprintf(path, sizeof(path), "%s/%s", web_opts.static_dir, files[i].name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			break;
		}
		w->fd = fd;
		w->fd_size = (uint64_t)st.st_size;
		w->content_type = files[i].type;
		w->cacheable = 1;
		return;
	}
	w->status = 404;
	w->content_type = "text/plain; charset=utf-8";
	BUF_PUT(&w->body, "not found\n");
}
