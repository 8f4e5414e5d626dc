/*
 * The nat driver's JSON intake: network-drivers/nat/nat-driver.c is included
 * so that its static parsers (parse_network, parse_ports) can be called; the
 * firewall backends and libiptc are stubbed out, so nothing reaches the
 * kernel. The input is the network record, "\n---\n", then a join request.
 */
#include "nat-driver.c"

#include "fuzz-services.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A non-NULL error object, so that every message is formatted; the fake
 * set_error never dereferences it. */
static char fuzz_err_storage;
#define fuzz_err ((struct berth_error *)&fuzz_err_storage)

const struct nat_backend_ops nat_iptables_ops = {.name = "iptables"};
const struct nat_backend_ops nat_nftables_ops = {.name = "nftables"};

void nat_nftables_release(struct nat *nat)
{
    (void)nat;
}

/* parse_network asks whether the legacy tables work: say no, without a
 * netfilter socket. */
struct xtc_handle *iptc_init(const char *tablename)
{
    (void)tablename;
    return NULL;
}

void iptc_free(struct xtc_handle *h)
{
    (void)h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct berth_services sv;
    static struct nat nat = {.state_fd = -1};
    if (!sv.size) {
        sv = fuzz_services(fuzz_dir());
        nat.services = &sv;
        nat.state_fd = open(fuzz_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FUZZ_ASSERT(nat.state_fd >= 0);
    }
    _cleanup_free_ char *net_text = NULL, *join_text = NULL;
    fuzz_split(data, size, &net_text, &join_text);

    uint16_t lo, hi;
    if (port_range_parse(net_text, &lo, &hi) == 0)
        FUZZ_ASSERT(lo >= 1 && lo <= hi);

    _cleanup_cjson_ cJSON *net_json = NULL, *join_json = NULL;
    struct nat_network net;
    if (parse_json(&nat, "network record", net_text, &net_json, fuzz_err) == 0 &&
        parse_network(&nat, net_json, &net, fuzz_err) == 0)
        FUZZ_ASSERT(net.prefix_len <= 32 && nat_id_valid(net.id));
    if (parse_json(&nat, "join request", join_text, &join_json, fuzz_err) == 0) {
        struct nat_endpoint ep = {0};
        int r = parse_ports(&nat, join_json, &ep, fuzz_err);
        for (size_t i = 0; r == 0 && i < ep.n_ports; i++) {
            char key[PORT_KEY_MAX];
            FUZZ_ASSERT(ep.ports[i].container_port > 0);
            FUZZ_ASSERT(port_key(ep.ports[i].proto, ep.ports[i].host_port, key) >= 0);
        }
        nat_endpoint_done(&ep);
        if (r < 0) {
            /* A join whose ports are refused must return before touching
             * anything (it once ran the lock's cleanup on an uninitialised
             * variable); with valid ports it would reach the firewall. */
            struct berth_network_request req = {.size = sizeof(req),
                                                .network_name = "fuzz",
                                                .network_json = net_text,
                                                .container_id = "c0ffee",
                                                .join_json = join_text};
            struct berth_text_result res = {.size = sizeof(res)};
            FUZZ_ASSERT(nat_join(&nat, &req, &res, fuzz_err) < 0);
        }
    }
    return 0;
}
