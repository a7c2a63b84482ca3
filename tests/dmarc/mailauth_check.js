// mailauth_check.js - the DMARC cases of cases.txt evaluated by an independent
// implementation, the mailauth npm package (pinned in tests/node), against the
// same DNS server.  Used by tests/integration/dmarc_eval.sh.
//
//   node mailauth_check.js CASES IP:PORT DEAD_IP:PORT
//
// One line per case: name, result, policy (mailauth's evaluated policy),
// tab-separated.  No usable author domain (mailauth answers false) is printed
// as permerror, the result mxdock gives it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const dns = require('node:dns');
const { createRequire } = require('node:module');

// resolve packages as tests/node/package.json sees them
const nodeRequire = createRequire(path.join(__dirname, '..', 'node', 'package.json'));
const { dmarc } = nodeRequire('mailauth/lib/dmarc');
const addressparser = nodeRequire('nodemailer/lib/addressparser');

const [casesFile, server, deadServer] = process.argv.slice(2);

const makeResolver = hostPort => {
    const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([hostPort]);
    return (name, rrtype) => r.resolve(name, rrtype);
};

// the From addresses as mailauth's DKIM verifier collects them
const fromAddresses = fields => {
    let list = [];
    for (let field of fields) {
        for (let addr of addressparser(field.trim())) {
            for (let mailbox of [].concat(addr?.group || addr || [])) {
                if (mailbox && mailbox.address) {
                    list.push(mailbox.address);
                }
            }
        }
    }
    return list;
};

const parseCase = line => {
    let f = line.split(' | ').map(s => s.trim().replace(/\s*\|$/, ''));
    let fields = f[1] === '-' ? [] : f[1].split('\\n');
    let [identity, spfResult] = f[3].split(':');
    let dkim = f[4] === '-' ? [] : f[4].split(',').map(e => {
        let i = e.lastIndexOf(':');
        return { domain: e.slice(0, i), result: e.slice(i + 1) };
    });
    return { name: f[0], fields, mailfrom: f[2] === '-' ? '' : f[2], identity, spfResult, dkim, opts: f[8] || '' };
};

const main = async () => {
    const live = makeResolver(server);
    const dead = makeResolver(deadServer);
    const lines = fs.readFileSync(casesFile, 'utf8').split('\n').filter(l => l && !l.startsWith('#'));
    for (let line of lines) {
        let c = parseCase(line);
        let spfDomains = c.identity === 'mailfrom' && c.spfResult === 'pass' && c.mailfrom ? [c.mailfrom] : [];
        let res = await dmarc({
            headerFrom: fromAddresses(c.fields),
            fromFields: c.fields.length,
            spfDomains,
            dkimDomains: c.dkim.filter(k => k.result === 'pass').map(k => ({ domain: k.domain })),
            resolver: c.opts === 'dead' ? dead : live
        });
        let result = res ? res.status.result : 'permerror';
        let policy = res && res.status.result !== 'none' && res.status.result !== 'temperror' && res.policy ? res.policy : '-';
        process.stdout.write(`${c.name}\t${result}\t${policy}\n`);
    }
};

main().catch(err => {
    console.error(`mailauth_check: ${err.stack || err}`);
    process.exit(70);
});
