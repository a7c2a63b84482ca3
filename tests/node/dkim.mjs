// dkim.mjs - an independent DKIM signer and verifier for the tests: the
// mailauth npm package (pinned in tests/node/package-lock.json), which shares
// no code with libopendkim.
//
// node dkim.mjs sign MSG DOMAIN SELECTOR:ALG:PEM...  |  verify MSG DNSPORT
import fs from 'fs';
import { promises as dns } from 'dns';
const lib = process.env.NODE_DIR + '/node_modules/mailauth/lib/dkim/';
const { dkimSign } = await import(lib + 'sign.js');
const { dkimVerify } = await import(lib + 'verify.js');
const [mode, file, arg, ...keys] = process.argv.slice(2);
const msg = fs.readFileSync(file);
if (mode === 'sign') {
    const signatureData = keys.map((k) => {
        const [selector, alg, pem] = k.split(':');
        return { signingDomain: arg, selector, privateKey: fs.readFileSync(pem),
                 algorithm: alg === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256' };
    });
    const r = await dkimSign(msg, { canonicalization: 'relaxed/relaxed', signatureData });
    if (r.errors.length) { console.error(r.errors); process.exit(1); }
    process.stdout.write(r.signatures + msg.toString());
} else {
    const res = new dns.Resolver();
    res.setServers(['127.0.0.1:' + arg]);
    const r = await dkimVerify(msg, { resolver: (name, type) => res.resolve(name, type) });
    for (const s of r.results)
        console.log(`${s.signingDomain} ${s.selector} ${s.status.result}`);
}
