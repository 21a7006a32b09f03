# Varnish for bench/cache.sh: the default VCL (empty subroutines: the builtin VCL decides) with
# the origin as backend; cache.sh starts varnishd with -s malloc,256m and default parameters.
vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "@ORIGIN_PORT@";
}
