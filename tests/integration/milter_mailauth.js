// milter_mailauth.js - an independent checker for the milter tests: the
// mailauth npm package (pinned in tests/node) evaluates SPF and DKIM of one
// message against the same DNS server the milter asked.
//
//   node milter_mailauth.js MSGFILE IP HELO MAILFROM DNS_IP:PORT
//
// Prints "spf RESULT" and one "dkim RESULT DOMAIN SELECTOR ALGO" per
// signature.  Shares no code with libopendkim or libspf2.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const dns = require('node:dns');
const { createRequire } = require('node:module');

const nodeRequire = createRequire(path.join(__dirname, '..', 'node', 'package.json'));
// the SPF and DKIM modules only: mailauth's main entry pulls in undici,
// which needs a newer node than Debian's
const { spf } = nodeRequire('mailauth/lib/spf');
const { dkimVerify } = nodeRequire('mailauth/lib/dkim/verify');

const [file, ip, helo, sender, server] = process.argv.slice(2);

const main = async () => {
    const r = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([server]);
    const resolver = (name, rrtype) => r.resolve(name, rrtype);
    const s = await spf({ ip, helo, sender, mta: 'checker.test', resolver });
    console.log(`spf ${s.status.result}`);
    const d = await dkimVerify(fs.readFileSync(file), { resolver });
    for (const s of d.results)
        console.log(`dkim ${s.status.result} ${s.signingDomain} ${s.selector} ${s.algo}`);
};

main().catch(err => {
    console.error(err);
    process.exit(1);
});
