/* kinesis_test: lib/kinesis (PutRecords body and responses), lib/checkpoint
 * (atomic commit and read) and aws_url_split, called directly. Exit 0 when
 * every check holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws_config.h"
#include "checkpoint.h"
#include "json.h"
#include "kinesis.h"
#include "unit.h"

static int eq(const ora_buf *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->p, s, b->len) == 0;
}

static void body(void)
{
    ora_buf b = ORA_BUF_INIT;
    CHECK(kinesis_body_begin(&b, "s\"1") == 0);
    CHECK(kinesis_body_add(&b, 1, (const uint8_t *)"k1", 2, (const uint8_t *)"{\"a\":1}", 7) == 0);
    CHECK(kinesis_body_add(&b, 0, (const uint8_t *)"k\n2", 3, (const uint8_t *)"ab", 2) == 0);
    CHECK(kinesis_body_add(&b, 0, (const uint8_t *)"k3", 2, (const uint8_t *)"abc", 3) == 0);
    CHECK(kinesis_body_add(&b, 0, (const uint8_t *)"k4", 2, (const uint8_t *)"", 0) == 0);
    CHECK(kinesis_body_end(&b) == 0);
    CHECK(eq(&b, "{\"StreamName\":\"s\\\"1\",\"Records\":[{\"Data\":\"eyJhIjoxfQ==\",\"PartitionKey\":\"k1\"},"
                 "{\"Data\":\"YWI=\",\"PartitionKey\":\"k\\n2\"},{\"Data\":\"YWJj\",\"PartitionKey\":\"k3\"},"
                 "{\"Data\":\"\",\"PartitionKey\":\"k4\"}]}"));
    b.len = 0;
    CHECK(ora_json_str(&b, "\x01\t\\", 3) == 0);
    CHECK(eq(&b, "\"\\u0001\\t\\\\\""));
    ora_buf_free(&b);
}

static void utf8(void)
{
    CHECK(kinesis_utf8_chars((const uint8_t *)"abc", 3) == 3);
    CHECK(kinesis_utf8_chars((const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9) == 3);
    CHECK(kinesis_utf8_chars((const uint8_t *)"\xc3", 1) == -1);         /* truncated */
    CHECK(kinesis_utf8_chars((const uint8_t *)"\xc0\xaf", 2) == -1);     /* overlong */
    CHECK(kinesis_utf8_chars((const uint8_t *)"\xed\xa0\x80", 3) == -1); /* surrogate */
    CHECK(kinesis_utf8_chars((const uint8_t *)"\xff", 1) == -1);
}

static void responses(void)
{
    uint8_t st[4];
    kinesis_put_result r;
    const char *ok = "{\"FailedRecordCount\":1,\"Records\":[{\"SequenceNumber\":\"1\",\"ShardId\":\"s\"},"
                     "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"Rate\"},"
                     "{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"x\"}]}";
    CHECK(kinesis_parse_put(ok, strlen(ok), 3, st, &r) == 0);
    CHECK(st[0] == KINESIS_E_OK && st[1] == KINESIS_E_THROTTLED && st[2] == KINESIS_E_FAILED);
    CHECK(r.failed == 2 && r.throttled == 1 && r.failed_count == 1);
    CHECK(strcmp(r.error, "ProvisionedThroughputExceededException: Rate") == 0);
    CHECK(kinesis_parse_put(ok, strlen(ok), 2, st, &r) == -1);  /* count mismatch */
    CHECK(kinesis_parse_put(ok, strlen(ok) - 1, 3, st, &r) == -1); /* truncated */
    const char *odd = "{\"Records\":[{}]}";
    CHECK(kinesis_parse_put(odd, strlen(odd), 1, st, &r) == -1);  /* neither outcome */
    CHECK(kinesis_parse_put("", 0, 0, st, &r) == -1);

    char t[64], m[128];
    const char *e = "{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\",\"message\":\"expired\\nnow\"}";
    CHECK(kinesis_classify_error(400, e, strlen(e), t, sizeof t, m, sizeof m) == KINESIS_C_CREDENTIALS);
    CHECK(strcmp(t, "ExpiredTokenException") == 0 && strcmp(m, "expired now") == 0);
    e = "{\"__type\":\"ProvisionedThroughputExceededException\",\"message\":\"x\"}";
    CHECK(kinesis_classify_error(400, e, strlen(e), t, sizeof t, m, sizeof m) == KINESIS_C_THROTTLE);
    e = "{\"__type\":\"ResourceNotFoundException\",\"Message\":\"gone\"}";
    CHECK(kinesis_classify_error(400, e, strlen(e), t, sizeof t, m, sizeof m) == KINESIS_C_NOT_FOUND);
    CHECK(strcmp(m, "gone") == 0);
    e = "{\"__type\":\"ValidationException\"}";
    CHECK(kinesis_classify_error(400, e, strlen(e), t, sizeof t, m, sizeof m) == KINESIS_C_FATAL);
    CHECK(kinesis_classify_error(403, "<html>", 6, t, sizeof t, m, sizeof m) == KINESIS_C_CREDENTIALS);
    CHECK(t[0] == 0);
    CHECK(kinesis_classify_error(502, NULL, 0, t, sizeof t, m, sizeof m) == KINESIS_C_RETRY);
    CHECK(kinesis_classify_error(429, "", 0, t, sizeof t, m, sizeof m) == KINESIS_C_THROTTLE);
}

static void checkpoints(void)
{
    char dir[] = "/tmp/kinesis_test.XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/ck", dir);
    int64_t w = -5;
    CHECK(checkpoint_read(path, &w) == 0 && w == -5);
    CHECK(checkpoint_commit(path, 42) == 0);
    CHECK(checkpoint_read(path, &w) == 1 && w == 42);
    CHECK(checkpoint_commit(path, 9007199254740993LL) == 0);
    CHECK(checkpoint_read(path, &w) == 1 && w == 9007199254740993LL);
    FILE *f = fopen(path, "w");
    fputs("12x\n", f);
    fclose(f);
    errno = 0;
    CHECK(checkpoint_read(path, &w) == -1 && errno == EINVAL);
    f = fopen(path, "w");
    fclose(f);
    CHECK(checkpoint_read(path, &w) == -1 && errno == EINVAL);
    char bad[96];
    snprintf(bad, sizeof bad, "%s/nodir/ck", dir);
    CHECK(checkpoint_commit(bad, 1) == -1 && errno == ENOENT);
    /* a symbolic link planted under the temporary name is removed, never
     * written through: the file it points at stays as it was */
    char tmp[128], victim[96];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    snprintf(victim, sizeof victim, "%s/victim", dir);
    f = fopen(victim, "w");
    fputs("untouched\n", f);
    fclose(f);
    CHECK(symlink(victim, tmp) == 0);
    CHECK(checkpoint_commit(path, 7) == 0);
    CHECK(checkpoint_read(path, &w) == 1 && w == 7);
    char got[32] = "";
    f = fopen(victim, "r");
    CHECK(f && fgets(got, sizeof got, f) && strcmp(got, "untouched\n") == 0);
    fclose(f);
    unlink(victim);
    /* no temporary left behind */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    unlink(path);
    rmdir(dir);
}

static void urls(void)
{
    char h[64], p[64];
    CHECK(aws_url_split("https://kinesis.eu-west-1.amazonaws.com", h, sizeof h, p, sizeof p) == 0);
    CHECK(strcmp(h, "kinesis.eu-west-1.amazonaws.com") == 0 && strcmp(p, "/") == 0);
    CHECK(aws_url_split("http://127.0.0.1:4567/x/y?q=1", h, sizeof h, p, sizeof p) == 0);
    CHECK(strcmp(h, "127.0.0.1:4567") == 0 && strcmp(p, "/x/y") == 0);
    CHECK(aws_url_split("ftp://h", h, sizeof h, p, sizeof p) == -1);
    CHECK(aws_url_split("http://", h, sizeof h, p, sizeof p) == -1);
    CHECK(aws_url_split("http://u:pw@h/", h, sizeof h, p, sizeof p) == -1);
}

int main(void)
{
    body();
    utf8();
    responses();
    checkpoints();
    urls();
    return unit_summary("kinesis_test");
}
