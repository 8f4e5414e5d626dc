/* run/create's security flags -> struct security_request. Validation is the runtime's. */
#include "cli/security-opts.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"

static char ***vector_of(struct security_request *r, enum security_flag flag)
{
    switch (flag) {
    case SECURITY_FLAG_CAP_ADD:
        return &r->cap_add;
    case SECURITY_FLAG_CAP_DROP:
        return &r->cap_drop;
    case SECURITY_FLAG_SECURITY_OPT:
        return &r->security_opt;
    case SECURITY_FLAG_DEVICE:
        return &r->devices;
    case SECURITY_FLAG_SYSCTL:
        return &r->sysctls;
    case SECURITY_FLAG_ULIMIT:
        return &r->ulimits;
    case SECURITY_FLAG_UIDMAP:
        return &r->uidmaps;
    case SECURITY_FLAG_GIDMAP:
        return &r->gidmaps;
    case SECURITY_FLAG_USERNS:
    case SECURITY_FLAG_PRIVILEGED:
        break;
    }
    return NULL;
}

void security_flags_add(struct security_flags *f, enum security_flag flag, const char *value)
{
    if (flag == SECURITY_FLAG_PRIVILEGED || !value) {
        f->req.privileged = 1;
        return;
    }
    char ***v = flag == SECURITY_FLAG_USERNS ? &f->userns : vector_of(&f->req, flag);
    char **grown = realloc(*v, (f->n[flag] + 2) * sizeof(char *));
    if (!grown || !(grown[f->n[flag]] = strdup(value)))
        abort();
    grown[++f->n[flag]] = NULL;
    *v = grown;
    if (flag == SECURITY_FLAG_USERNS)
        f->req.userns = grown[f->n[flag] - 1];
}

const struct security_request *security_flags_request(struct security_flags *f, const char *network)
{
    f->req.share_host_network = network && strcmp(network, "host") == 0;
    return &f->req;
}

void security_flags_free(struct security_flags *f)
{
    strvfreep(&f->userns);
    for (int flag = 0; flag <= SECURITY_FLAG_GIDMAP; flag++) {
        char ***v = vector_of(&f->req, (enum security_flag)flag);
        if (v)
            strvfreep(v);
    }
}
