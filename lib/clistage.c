/* clistage.c: the end of a record filter stage (clistage.h). */
#include "clistage.h"
#include "cli.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The output's last flush and close (clistage_end). */
static int close_output(ora_writer *w, int fd, int ex)
{
    int werr = ora_writer_error(w);
    if (werr || ex == ORA_EX_IOERR) {
        if (werr)
            log_error("unable to write output: %s", strerror(werr));
        close(fd);
        return ORA_EX_IOERR;
    }
    if (ora_writer_flush(w) != 0 || close(fd) != 0) {
        log_error("unable to write output: %s", strerror(errno));
        return ORA_EX_IOERR;
    }
    return ex;
}

/* The last words: signal note, final metrics, summary (clistage_end). */
static void finish(int stopped, ora_metrics *m, const char *metrics_path)
{
    if (stopped)
        log_info("stopped by signal");
    if (m && ora_metrics_flush(m) != 0)
        log_warn("unable to write metrics to %s: %s", metrics_path, strerror(errno));
    ora_metrics_free(m);
    cli_summary();
}

int clistage_end(const clistage_io *io, int ex, int stopped)
{
    ex = close_output(io->w, io->out_fd, ex);
    finish(stopped, io->m, io->metrics_path);
    ora_writer_free(io->w);
    ora_reader_free(io->rd);
    if (io->in_path)
        close(io->in_fd);
    return ex;
}

void clistage_cut_input(int in_fd, int null_fd, int *stopping)
{
    if (*stopping)
        return;
    *stopping = 1;
    if (null_fd > 0)
        dup2(null_fd, in_fd);
    else
        close(in_fd);
}
