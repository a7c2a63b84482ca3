// judge_mailauth.mjs - the cases of the differential suite judged by
// mailauth (the npm package pinned in tests/node, default lenient mode, as
// the other tests use it), asking the same PowerDNS.
//
//   node judge_mailauth.mjs OUTDIR DNSPORT      (NODE_DIR = tests/node)
//
// One JSON line per case: {"name", "dkim": [result per signature, top to
// bottom], "dmarc": result}.  Each signature is verified on its own (the
// message with the other DKIM-Signature fields removed), so a signature
// that mailauth leaves out of its results is seen as "skipped" and never
// confused with its neighbour.  DMARC is mailauth's authenticate() on the
// whole message: the DKIM results of dkimVerify, the SPF result of its spf()
// for the case's client and MAIL FROM, then dmarc() - what authenticate()
// does (lib/mailauth.js), without its BIMI part, which needs a newer node.
import fs from 'fs';
import { promises as dns } from 'dns';
import { createRequire } from 'module';

const require = createRequire(process.env.NODE_DIR + '/package.json');
const { dkimVerify } = require('mailauth/lib/dkim/verify');
const { spf } = require('mailauth/lib/spf');
const { dmarc: dmarcCheck } = require('mailauth/lib/dmarc');

const [out, port] = process.argv.slice(2);
const res = new dns.Resolver({ timeout: 5000, tries: 2 });
res.setServers(['127.0.0.1:' + port]);
const resolver = (name, type) => res.resolve(name, type);

// splitHeader - [header block lines joined per field, body] of a raw message
function split(raw) {
    const s = raw.toString('latin1');
    const at = s.indexOf('\r\n\r\n');
    const head = s.slice(0, at + 2);
    const fields = head.split(/\r\n(?![ \t])/).filter(f => f.length);
    return [fields, s.slice(at + 2)];
}

const cases = JSON.parse(fs.readFileSync(out + '/cases.json', 'utf8'));
for (const c of cases) {
    const raw = fs.readFileSync(`${out}/msgs/${c.name}.eml`);
    const [fields, rest] = split(raw);
    const isSig = f => /^dkim-signature\s*:/i.test(f);
    const sigs = fields.filter(isSig);
    const dkim = [];
    for (const sig of sigs) {
        const others = fields.filter(f => !isSig(f) || f === sig);
        const one = Buffer.from(others.join('\r\n') + '\r\n' + rest, 'latin1');
        try {
            const r = await dkimVerify(one, { resolver });
            const got = (r.results || []).filter(x => x.status && x.status.result !== 'none');
            dkim.push(got.length ? got[0].status.result : 'skipped');
        } catch (e) {
            dkim.push('error:' + e.message);
        }
    }
    let dmarc = 'error';
    try {
        const d = await dkimVerify(raw, { resolver, sender: c.mailfrom });
        const s = await spf({ sender: c.mailfrom, ip: c.ip, helo: c.helo, mta: 'mx.diff.test', resolver });
        const r = d.headerFrom ? await dmarcCheck({
            headerFrom: d.headerFrom,
            fromFields: d.fromFields,
            spfDomains: [].concat((s && s.status.result === 'pass' && s.domain) || []),
            dkimDomains: (d.results || []).filter(x => x.status.result === 'pass')
                .map(x => ({ id: x.id, domain: x.signingDomain, aligned: x.status.aligned,
                             underSized: x.status.underSized })),
            resolver
        }) : false;
        // no usable From: mailauth answers false (as tests/dmarc/mailauth_check.js)
        dmarc = r ? r.status.result : 'permerror';
    } catch (e) {
        dmarc = 'error:' + e.message;
    }
    process.stdout.write(JSON.stringify({ name: c.name, dkim, dmarc }) + '\n');
}
