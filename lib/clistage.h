/* clistage.h: how a record filter stage (ora-deframe, ora-order) ends,
 * written once: the output's last write and close, the final metrics and
 * the summary. Like cli.c, it reports through log_*() and never exits.
 */
#ifndef ORA_CLISTAGE_H
#define ORA_CLISTAGE_H

#include "metrics.h"
#include "record.h"

/* What a filter stage opened for its run, for clistage_end. */
typedef struct clistage_io {
    ora_reader *rd;            /* may be NULL */
    ora_writer *w;
    int in_fd;                 /* closed at the end when in_path is set (not stdin) */
    int out_fd;
    const char *in_path;
    ora_metrics *m;            /* may be NULL */
    const char *metrics_path;
} clistage_io;

/* The end of a run: flushes the writer, unless it already failed or ex is
 * ORA_EX_IOERR (what is buffered can no longer be written in order), and
 * closes out_fd in every case, logging "unable to write output: reason"
 * once; "stopped by signal" (info) when stopped; the metrics written a
 * final time (a warning when that fails: metrics never change the exit
 * status) and freed; the summary line (cli_summary); then frees io's writer
 * and reader and closes its input file. Returns the exit status (ex, or
 * ORA_EX_IOERR when the output failed). What the summary reads must still
 * be alive: free it after. */
int clistage_end(const clistage_io *io, int ex, int stopped);

/* Makes every further read(2) of in_fd see end of file, once (*stopping
 * is then set): null_fd (/dev/null, opened before the sandbox, which allows
 * no open) is put in its place, or without one in_fd is closed (reads then
 * fail with EBADF, which the stage takes as the end). */
void clistage_cut_input(int in_fd, int null_fd, int *stopping);

#endif
