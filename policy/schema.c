/*
 * schema.c - create or upgrade mxdock's policy tables (mxdock-policy init-db).
 *
 *   schema_upgrade  apply every step newer than the recorded version
 *
 * mxdock owns auth_attempt, auth_ban, mailbox_usage, mxdock_schema (the
 * version record) and, from version 2, the DMARC report tables of
 * dmarc_report.c.  The directory tables (accounts, emails) belong to the
 * mail server; docs/policy-schema.sql shows them.  Each step is idempotent
 * (IF NOT EXISTS), so running init-db twice, or from two hosts at once,
 * changes nothing the second time.
 */
#include <stddef.h>

#include "dmarc_report.h"
#include "schema.h"

struct schema_step {
    int     version;
    const char *sql;
};

static const struct schema_step steps[] = {
    {1, "CREATE TABLE IF NOT EXISTS auth_attempt ("
     " id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,"
     " ip VARCHAR(45) NOT NULL,"
     " principal VARCHAR(255) NOT NULL DEFAULT '',"
     " protocol VARCHAR(16) NOT NULL DEFAULT 'smtp',"
     " success TINYINT(1) NOT NULL DEFAULT 0,"
     " attempted_at DATETIME NOT NULL,"
     " KEY auth_attempt_window (ip, success, attempted_at),"
     " KEY auth_attempt_time (attempted_at)"
     ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"},
    {1, "CREATE TABLE IF NOT EXISTS auth_ban ("
     " ban VARCHAR(49) NOT NULL PRIMARY KEY,"
     " ip_from VARBINARY(16) NOT NULL,"
     " ip_to VARBINARY(16) NOT NULL,"
     " reason VARCHAR(255) NOT NULL DEFAULT '',"
     " created_at DATETIME NOT NULL,"
     " until DATETIME NOT NULL,"
     " `count` INT UNSIGNED NOT NULL DEFAULT 0,"
     " KEY auth_ban_range (ip_from, ip_to)"
     ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"},
    {1, "CREATE TABLE IF NOT EXISTS mailbox_usage ("
     " name VARCHAR(255) NOT NULL PRIMARY KEY,"
     " used_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,"
     " updated_at DATETIME NOT NULL"
     ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"},
};

static const char sql_version_table[] =
    "CREATE TABLE IF NOT EXISTS mxdock_schema ("
    " component VARCHAR(32) NOT NULL PRIMARY KEY,"
    " version INT NOT NULL) ENGINE=InnoDB";
static const char sql_version_get[] =
    "SELECT version FROM mxdock_schema WHERE component = 'policy'";
static const char sql_version_set[] =
    "INSERT INTO mxdock_schema (component, version) VALUES ('policy', ?) "
    "ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version))";

static int version_row(void *ctx, const struct pdb_col *c, int n)
{
    (void) n;
    *(int *) ctx = (int) c[0].n;
    return 1;
}

int     schema_upgrade(struct pdb *db, int *from)
{
    struct pdb_col col = {.type = PDB_INT};
    struct pdb_val v = {PDB_INT, SCHEMA_VERSION, 0, 0};

    *from = 0;
    if (pdb_run(db, -1, sql_version_table, 0, 0, 0, 0, 0, 0, 0) < 0
        || pdb_run(db, -1, sql_version_get, 0, 0, &col, 1, version_row, from, 0) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (steps[i].version > *from
            && pdb_run(db, -1, steps[i].sql, 0, 0, 0, 0, 0, 0, 0) < 0)
            return -1;
    for (size_t i = 0; *from < SCHEMA_VERSION && dmarc_report_ddl[i]; i++)
        if (pdb_run(db, -1, dmarc_report_ddl[i], 0, 0, 0, 0, 0, 0, 0) < 0)
            return -1;
    return pdb_run(db, -1, sql_version_set, &v, 1, 0, 0, 0, 0, 0);
}
