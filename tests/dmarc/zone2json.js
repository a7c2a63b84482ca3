// zone2json.js - the records of zone.txt that belong to ZONE as the JSON body
// of a PowerDNS "POST /zones" (SOA and NS added).  Used by dmarc_eval.sh.
//
//   node zone2json.js zone.txt ZONE      (ZONE without the trailing dot)
'use strict';

const fs = require('node:fs');
const [file, zone] = process.argv.slice(2);

const under = name => name === zone || name.endsWith(`.${zone}`);
let sets = new Map();
const add = (name, type, content) => {
    let key = `${name}.|${type}`;
    if (!sets.has(key)) {
        sets.set(key, { name: `${name}.`, type, ttl: 60, changetype: 'REPLACE', records: [] });
    }
    sets.get(key).records.push({ content, disabled: false });
};

add(zone, 'SOA', `ns.test. hostmaster.${zone}. 1 3600 600 86400 60`);
add(zone, 'NS', 'ns.test.');
for (let line of fs.readFileSync(file, 'utf8').split('\n')) {
    let m = line.match(/^(\S+)\s+(\S+)\s+(.*\S)\s*$/);
    if (!m || line.startsWith('#') || !under(m[1].toLowerCase())) {
        continue;
    }
    let [, name, type, content] = m;
    add(name.toLowerCase(), type, type === 'TXT' ? JSON.stringify(content) : content);
}
process.stdout.write(JSON.stringify({ name: `${zone}.`, kind: 'Native', nameservers: [], rrsets: [...sets.values()] }));
