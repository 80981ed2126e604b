/*
 * gosync.h - Go's sync, golang.org/x/sync and context for C11.
 * Each module has its own header under gosync/; this one includes all.
 */
#ifndef GOSYNC_H
#define GOSYNC_H

#include "gosync/cond.h"
#include "gosync/context.h"
#include "gosync/errgroup.h"
#include "gosync/locker.h"
#include "gosync/map.h"
#include "gosync/mutex.h"
#include "gosync/once.h"
#include "gosync/pool.h"
#include "gosync/runtime.h"
#include "gosync/rwmutex.h"
#include "gosync/semaphore.h"
#include "gosync/singleflight.h"
#include "gosync/waitgroup.h"

#endif
