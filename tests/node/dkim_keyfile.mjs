// dkim_keyfile.mjs - mailauth (pinned in package-lock.json) verifying every
// DKIM-Signature of each message with keys from a file instead of DNS:
//   NODE_DIR=tests/node node dkim_keyfile.mjs KEYFILE MSG...
// KEYFILE lines: "SEL._domainkey.DOMAIN TXT-value".  One line per
// signature: "MSG RESULT DOMAIN SELECTOR ALGORITHM".
import fs from 'fs';
const lib = process.env.NODE_DIR + '/node_modules/mailauth/lib/dkim/';
const { dkimVerify } = await import(lib + 'verify.js');
const [keyfile, ...files] = process.argv.slice(2);
const keys = new Map();
for (const line of fs.readFileSync(keyfile, 'utf8').split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) keys.set(line.slice(0, i).toLowerCase().replace(/\.$/, ''), line.slice(i + 1));
}
const resolver = async (name, type) => {
    const txt = keys.get(name.toLowerCase().replace(/\.$/, ''));
    if (type !== 'TXT' || txt === undefined) {
        const e = new Error('not found'); e.code = 'ENOTFOUND'; throw e;
    }
    return [[txt]];
};
for (const f of files) {
    const r = await dkimVerify(fs.readFileSync(f), { resolver });
    for (const s of r.results)
        console.log(`${f} ${s.status.result} ${s.signingDomain} ${s.selector} ${s.algo}`);
}
