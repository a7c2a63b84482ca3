# corpus.sh - the benchmark's keys, DNS data and messages (source it).
#
#   bench_keys DIR       RSA-2048 and Ed25519 keys of bench.test in DIR:
#                        rsa.pem, ed.pem (PKCS#8 PEM, the files every milter
#                        signs with), ed.seed (dkimpy's base64 seed), and
#                        rsa.txt / ed.txt (the DKIM TXT values).  With
#                        BENCH_KEYSTORE set to a keydir already filled by
#                        mxdock-dkim, its PEM files are used instead.
#   bench_messages DIR   plain-{2k,20k,200k}.eml from sender@bench.test
#   bench_sign_corpus IN OUT SEL KEY ALG   every message of IN signed once
#                        (dkimpy's dkimsign, relaxed/relaxed) into OUT
#
# Selectors: $BENCH_RSA_SEL and $BENCH_ED_SEL (rsa, ed unless the store
# named them).  Domain: bench.test.  Everything is made fresh per run.

BENCH_DOMAIN=bench.test
BENCH_RSA_SEL=${BENCH_RSA_SEL:-rsa}
BENCH_ED_SEL=${BENCH_ED_SEL:-ed}

# bench_pubtxt KEY ALG - the p= value of KEY: SPKI DER for RSA, the raw
# 32 bytes for Ed25519 (RFC 8463).
bench_pubtxt() {
	if [ "$2" = rsa ]; then
		echo "v=DKIM1; k=rsa; p=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0)"
	else
		echo "v=DKIM1; k=ed25519; p=$(openssl pkey -in "$1" -pubout -outform DER 2>/dev/null |
			tail -c 32 | base64 -w0)"
	fi
}

bench_keys() {
	local d=$1 f
	mkdir -p "$d"
	if [ -n "$BENCH_KEYSTORE" ]; then
		for f in "$BENCH_KEYSTORE/$BENCH_DOMAIN"/*.pem; do
			[ -f "$f" ] || continue
			if openssl pkey -in "$f" -noout -text 2>/dev/null | head -1 | grep -qi ed25519; then
				cp "$f" "$d/ed.pem"
				BENCH_ED_SEL=$(basename "$f" .pem)
			else
				cp "$f" "$d/rsa.pem"
				BENCH_RSA_SEL=$(basename "$f" .pem)
			fi
		done
	fi
	[ -f "$d/rsa.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$d/rsa.pem" 2>/dev/null
	[ -f "$d/ed.pem" ] || openssl genpkey -algorithm ed25519 -out "$d/ed.pem" 2>/dev/null
	chmod 600 "$d"/*.pem
	# dkimpy wants the Ed25519 seed in base64: the last 32 bytes of the
	# PKCS#8 DER; and its RSA KeyFile as a traditional (PKCS#1) PEM.
	openssl pkey -in "$d/ed.pem" -outform DER 2>/dev/null | tail -c 32 | base64 -w0 >"$d/ed.seed"
	openssl pkey -in "$d/rsa.pem" -traditional -out "$d/rsa1.pem" 2>/dev/null
	bench_pubtxt "$d/rsa.pem" rsa >"$d/rsa.txt"
	bench_pubtxt "$d/ed.pem" ed25519 >"$d/ed.txt"
}

# bench_text BYTES - body text of about BYTES bytes, 72-column lines.
bench_text() {
	local n=0 i=0 line
	while [ "$n" -lt "$1" ]; do
		line="Line $i of the benchmark corpus: the quick brown fox jumps over it."
		echo "$line"
		n=$((n + ${#line} + 1))
		i=$((i + 1))
	done
}

bench_messages() {
	local d=$1 size
	mkdir -p "$d"
	for size in 2 20 200; do
		{
			printf 'Received: from client.example.net (client.example.net [192.0.2.10])\n'
			printf '\tby mx.bench.test (Postfix) with ESMTP id 4ABC%s\n' "$size"
			printf '\tfor <user@rcpt.bench.test>; Sat, 21 Nov 2026 12:00:00 +0000 (UTC)\n'
			printf 'From: Bench Sender <sender@%s>\n' "$BENCH_DOMAIN"
			printf 'To: Bench Recipient <user@rcpt.bench.test>\n'
			printf 'Subject: benchmark message of %s KB\n' "$size"
			printf 'Date: Sat, 21 Nov 2026 12:00:00 +0000\n'
			printf 'Message-ID: <bench-%s@%s>\n' "$size" "$BENCH_DOMAIN"
			printf 'MIME-Version: 1.0\n'
			printf 'Content-Type: text/plain; charset=us-ascii\n'
			printf '\n'
			bench_text $((size * 1024 - 600))
		} | sed 's/$/\r/' >"$d/plain-${size}k.eml"
	done
}

bench_sign_corpus() {
	local in=$1 out=$2 sel=$3 key=$4 alg=$5 f
	mkdir -p "$out"
	for f in "$in"/*.eml; do
		dkimsign --hcanon relaxed --bcanon relaxed --signalg "$alg" \
			"$sel" "$BENCH_DOMAIN" "$key" <"$f" >"$out/$(basename "$f")" || return 1
	done
}
