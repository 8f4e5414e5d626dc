/* The configuration file's "registries" object (registry-config.h). */
#include "registry/registry-config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image-ref.h"

static int bad(struct error **err, const char *what)
{
    return error_set_plain(err, EINVAL, "\"registries\": %s", what);
}

static int check_string_array(const cJSON *a, const char *what, struct error **err)
{
    if (!cJSON_IsArray(a))
        return bad(err, what);
    const cJSON *x;
    cJSON_ArrayForEach(x, a) if (!cJSON_IsString(x) || !*x->valuestring ||
                                 strpbrk(x->valuestring, "/ \t\r\n")) return bad(err, what);
    return 0;
}

int registry_config_check(const cJSON *r, struct error **err)
{
    if (!r)
        return 0;
    if (!cJSON_IsObject(r))
        return bad(err, "must be an object");
    const cJSON *x;
    cJSON_ArrayForEach(x, r)
    {
        if (!strcmp(x->string, "default")) {
            if (!cJSON_IsString(x) || !*x->valuestring || strpbrk(x->valuestring, "/ \t\r\n"))
                return bad(err, "\"default\" must be a registry host[:port]");
        } else if (!strcmp(x->string, "insecure")) {
            int rc = check_string_array(x, "\"insecure\" must be an array of hosts", err);
            if (rc < 0)
                return rc;
        } else if (!strcmp(x->string, "mirrors")) {
            if (!cJSON_IsObject(x))
                return bad(err, "\"mirrors\" must be an object of arrays");
            const cJSON *m;
            cJSON_ArrayForEach(m, x)
            {
                int rc = check_string_array(m, "each mirror list must be an array of hosts", err);
                if (rc < 0)
                    return rc;
            }
        } else {
            return error_set_plain(err, EINVAL, "\"registries\": unknown key '%s'", x->string);
        }
    }
    return 0;
}

const char *registry_config_default(const cJSON *r)
{
    const char *d = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "default"));
    return d ? d : IMAGE_REF_DEFAULT_DOMAIN;
}

const char **registry_config_mirrors(const cJSON *r, const char *domain)
{
    const cJSON *list =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "mirrors"), domain);
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    const char **out = calloc((size_t)n + 1, sizeof(*out));
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++)
        out[i] = cJSON_GetStringValue(cJSON_GetArrayItem(list, i));
    return out;
}

int registry_config_insecure(const cJSON *r, const char *host)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(
                              r, "insecure")) if (cJSON_IsString(x) &&
                                                  !strcmp(x->valuestring, host)) return 1;
    size_t hlen = strcspn(host, ":");
    if (host[0] == '[')
        return !strncmp(host, "[::1]", 5);
    if (hlen == 9 && !strncmp(host, "localhost", 9))
        return 1;
    /* 127.0.0.0/8 as an address, not a name that starts with "127.". */
    if (strncmp(host, "127.", 4))
        return 0;
    for (size_t i = 0; i < hlen; i++)
        if (host[i] != '.' && (host[i] < '0' || host[i] > '9'))
            return 0;
    return 1;
}

const char *registry_endpoint(const char *domain)
{
    return strcmp(domain, IMAGE_REF_DEFAULT_DOMAIN) ? domain : "registry-1.docker.io";
}
