/*
 * Copyright (C) ngx_durable authors
 *
 * Runtime status names.
 */


#include <string.h>

#include "durable_store.h"


static const char  *ds_status_names[DS_STATUS_COUNT] = {
    "Running", "Completed", "ContinuedAsNew", "Failed", "Canceled",
    "Terminated", "Pending", "Suspended"
};


const char *
ds_status_name(ds_status_e status)
{
    if ((unsigned) status >= DS_STATUS_COUNT) {
        return "Unknown";
    }

    return ds_status_names[status];
}


int
ds_status_parse(const char *s, size_t len)
{
    int          i;
    size_t       j;
    const char  *name;
    unsigned     a, b;

    for (i = 0; i < DS_STATUS_COUNT; i++) {
        name = ds_status_names[i];

        if (strlen(name) != len) {
            continue;
        }

        for (j = 0; j < len; j++) {
            a = (unsigned char) s[j];
            b = (unsigned char) name[j];

            if (a >= 'A' && a <= 'Z') {
                a += 'a' - 'A';
            }

            if (b >= 'A' && b <= 'Z') {
                b += 'a' - 'A';
            }

            if (a != b) {
                break;
            }
        }

        if (j == len) {
            return i;
        }
    }

    return -1;
}


int
ds_status_is_terminal(ds_status_e status)
{
    return (unsigned) status < DS_STATUS_COUNT
           && (DS_STATUS_MASK(status) & DS_TERMINAL_MASK) != 0;
}
