// test_cxx_headers.cpp - the public headers compile as C++ and link.
#include <gosync.h>

int main()
{
	gs_mutex_t m = GS_MUTEX_INIT;
	gs_waitgroup_t wg = GS_WAITGROUP_INIT;
	gs_once_t o = GS_ONCE_INIT;

	gs_mutex_lock(&m);
	gs_mutex_unlock(&m);
	gs_waitgroup_add(&wg, 1);
	gs_waitgroup_done(&wg);
	gs_waitgroup_wait(&wg);
	gs_once_do(&o, [](void *) {}, nullptr);
	return 0;
}
