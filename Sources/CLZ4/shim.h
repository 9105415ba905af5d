#ifndef MARKSYNC_CLZ4_SHIM_H
#define MARKSYNC_CLZ4_SHIM_H
#include <lz4.h>
#endif
