# nginx's habit: the result of an allocation is checked for NULL before
# use.  Every "x = <allocator>(" must be followed, within a few lines, by
# a test of x against NULL (alone or with other results: a || b == NULL).
function report(i) {
    printf "%s:%d: %s is not checked for NULL\n", FILENAME, line[i], name[i]
    failed = 1
}
function drop(i) {
    name[i] = name[n]; line[i] = line[n]; left[i] = left[n]; n--
}
BEGIN {
    ALLOC = "[A-Za-z_][A-Za-z0-9_>.-]* = (\\([a-z_ *]+\\) *)?"     \
            "(ngx_palloc|ngx_pnalloc|ngx_pcalloc|ngx_alloc|ngx_calloc"  \
            "|ngx_array_create|ngx_array_push|ngx_array_push_n"        \
            "|ngx_list_push|ngx_create_temp_buf|ngx_alloc_chain_link"  \
            "|ngx_pool_cleanup_add|malloc|calloc|realloc|strdup"       \
            "|strndup|dgi_alloc|dg_arena_alloc)\\("
}
FNR == 1 { for (i = n; i > 0; i--) { report(i) } n = 0 }
{
    for (i = n; i > 0; i--) {
        if (index($0, name[i] " == NULL") || index($0, "!" name[i] ")")) {
            drop(i)
        } else if (--left[i] == 0) {
            report(i); drop(i)
        }
    }
    if (match($0, ALLOC)) {
        s = substr($0, RSTART, RLENGTH)
        sub(/ = .*/, "", s)
        n++; name[n] = s; line[n] = FNR; left[n] = 8
    }
}
END { for (i = n; i > 0; i--) { report(i) } exit failed }
