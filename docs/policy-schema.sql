-- policy-schema.sql - an example directory for mxdock's quota check.
--
-- accounts and emails are the tables of Stalwart's SQL directory (the
-- layout its documentation gives); mailbox_usage is mxdock's, created by
-- `mxdock-policy init-db` and fed by `mxdock-policy quota set-usage` or by
-- your own usage feeder.  mxdock never creates accounts or emails: they
-- belong to the mail server's directory.  Load this file only into a
-- scratch database, or adapt it.
--
--   accounts.quota   bytes; 0 or NULL = unlimited
--   emails.type      'primary' | 'alias' | 'list' (lists have no quota)
--   emails.address   '@example.org' = the domain's catch-all

CREATE TABLE IF NOT EXISTS accounts (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    secret VARCHAR(255),
    description VARCHAR(255),
    type VARCHAR(32) NOT NULL DEFAULT 'individual',
    quota BIGINT UNSIGNED DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS emails (
    name VARCHAR(255) NOT NULL,
    address VARCHAR(255) NOT NULL,
    type VARCHAR(32) NOT NULL DEFAULT 'primary',
    PRIMARY KEY (name, address),
    KEY emails_address (address)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS mailbox_usage (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    used_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
