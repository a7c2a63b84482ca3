#!/bin/bash
# diff_dkim_dmarc_opendkim - the differential DKIM/DMARC suite
# (diff_dkim_dmarc.sh) with the milter on the other engine, libopendkim
# (dkim_engine = opendkim): both engines must give the RFC's answers, or a
# difference documented in docs/INTEROP.md (issue 16).
DIFF_DKIM_ENGINE=opendkim exec bash "$(dirname "$0")/diff_dkim_dmarc.sh"
