# Varnish in front of the cache-tests server, for bench/conformance/run.sh. As in the suite's
# docker image: Debian's default.vcl (empty subroutines, so the builtin VCL decides everything)
# with the backend pointed at the test server; run.sh starts varnishd with the same parameters
# as the suite's docker/serve.sh: -p default_ttl=0 -p default_grace=0 -p default_keep=3600
# -s malloc,64M.
vcl 4.1;

backend default {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
}

sub vcl_recv {
}

sub vcl_backend_response {
}

sub vcl_deliver {
}
