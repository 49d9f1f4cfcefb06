# mitmproxy addon for the benchmarks: the job the Python authsome gives mitmproxy, set the
# credential header on requests to one host (or, for "*.domain", its subdomains), plus the
# upstream override authsome gets from AUTHSOME_UPSTREAM_RESOLVE (dial 127.0.0.1, keep the
# name for SNI and certificate verification).
import os

HOST = os.environ["BENCH_HOST"]
VALUE = os.environ["BENCH_AUTHORIZATION"]


def _declared(host):
    if HOST.startswith("*."):
        return host.endswith(HOST[1:])
    return host == HOST


class Inject:
    def server_connect(self, data):
        host, port = data.server.address
        if _declared(host):
            data.server.address = ("127.0.0.1", port)

    def request(self, flow):
        if _declared(flow.request.pretty_host):
            flow.request.headers["authorization"] = VALUE


addons = [Inject()]
