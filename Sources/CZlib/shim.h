#ifndef MARKSYNC_CZLIB_SHIM_H
#define MARKSYNC_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit2 is a macro; Swift cannot import it. */
static inline int czlib_inflate_init2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
#endif
