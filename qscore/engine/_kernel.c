/*
 * Compiled core of qscore.engine: cell lists, neighbour lists, MapQ's shell points, per-atom Q,
 * trilinear sampling and molmap splatting.
 *
 * A CPython extension module. Arrays arrive through the buffer protocol and every one is checked
 * (dtype, number of dimensions, shape, C-contiguity, writability) before any memory is touched:
 * a mismatch raises TypeError or ValueError. Work runs with the GIL released, in parallel with
 * OpenMP when the compiler supports it (setup.py probes for it) and serially otherwise. Every atom
 * is computed independently, so results do not depend on the number of threads, nor on whether
 * OpenMP is there at all. Floating-point contraction is disabled at build time so that the
 * arithmetic matches the double-precision reference exactly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* No contraction of a * b + c into one rounding, whatever the compiler's default. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#define restrict __restrict
#endif

/*
 * With GCC on x86-64 Linux the shell tests are also compiled for AVX2 and the better version is
 * picked when the module loads. Float64 arithmetic rounds the same either way (contraction into
 * FMA is off), so results do not depend on the processor.
 */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define SHELL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SHELL_CLONES
#endif

#define MIN_POINTS 8
#define CENTRE_WEIGHT 8
#define REJECT_FACTOR 0.9
#define MAX_HELD 24

/* ================================================================== argument checking */

typedef enum { F64, F32, I64 } Kind;

static const char *const KIND_NAME[] = {"float64", "float32", "int64"};

/* Buffers taken from the arguments of one call, released together. */
typedef struct {
    Py_buffer views[MAX_HELD];
    int n;
} Held;

static void release_all(Held *h)
{
    for (int i = 0; i < h->n; i++) PyBuffer_Release(&h->views[i]);
    h->n = 0;
}

/* True when a buffer's struct format and item size are those of `kind` in native byte order. */
static int format_is(const char *fmt, Py_ssize_t itemsize, Kind kind)
{
    const uint16_t probe = 1;
    const int little = *(const uint8_t *)&probe == 1;
    if (fmt == NULL) return 0;
    if (*fmt == '@' || *fmt == '=') fmt++;
    else if (*fmt == '<' || *fmt == '>') {
        if ((*fmt == '<') != little) return 0;
        fmt++;
    }
    switch (kind) {
    case F64: return strcmp(fmt, "d") == 0 && itemsize == 8;
    case F32: return strcmp(fmt, "f") == 0 && itemsize == 4;
    case I64: return (strcmp(fmt, "q") == 0 || strcmp(fmt, "l") == 0) && itemsize == 8;
    }
    return 0;
}

/*
 * The data of `obj` as a C-contiguous array of `kind` with `ndim` dimensions. `shape` gives the
 * expected size of each dimension (-1: any); the actual sizes are written back into it. Returns
 * NULL with TypeError (not an array of that dtype) or ValueError (shape, contiguity, read-only).
 */
static void *take(Held *h, PyObject *obj, const char *name, Kind kind, int ndim, Py_ssize_t *shape,
                  int writable)
{
    if (h->n >= MAX_HELD) {
        PyErr_SetString(PyExc_RuntimeError, "too many array arguments");
        return NULL;
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a %s array, not %.100s", name, KIND_NAME[kind],
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_buffer *v = &h->views[h->n];
    if (PyObject_GetBuffer(obj, v, PyBUF_STRIDES | PyBUF_FORMAT) < 0) return NULL;
    if (!format_is(v->format, v->itemsize, kind)) {
        PyErr_Format(PyExc_TypeError, "%s must be a %s array (got format '%s', %zd-byte items)",
                     name, KIND_NAME[kind], v->format ? v->format : "B", v->itemsize);
        PyBuffer_Release(v);
        return NULL;
    }
    if (v->ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must have %d dimension(s), not %d", name, ndim,
                     v->ndim);
        PyBuffer_Release(v);
        return NULL;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] >= 0 && v->shape[d] != shape[d]) {
            PyErr_Format(PyExc_ValueError, "%s must have %zd entries along axis %d, not %zd", name,
                         shape[d], d, v->shape[d]);
            PyBuffer_Release(v);
            return NULL;
        }
        shape[d] = v->shape[d];
    }
    if (!PyBuffer_IsContiguous(v, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous", name);
        PyBuffer_Release(v);
        return NULL;
    }
    if (writable && v->readonly) {
        PyErr_Format(PyExc_ValueError, "%s must be writable", name);
        PyBuffer_Release(v);
        return NULL;
    }
    h->n++;
    return v->buf;
}

/* Shorthands: a vector of n (or any length: n < 0, returned in *len) and an (n, 3) array. */
static void *take_vec(Held *h, PyObject *obj, const char *name, Kind kind, Py_ssize_t n,
                      Py_ssize_t *len, int writable)
{
    Py_ssize_t shape[1] = {n};
    void *p = take(h, obj, name, kind, 1, shape, writable);
    if (p && len) *len = shape[0];
    return p;
}

static void *take_xyz(Held *h, PyObject *obj, const char *name, Kind kind, Py_ssize_t n,
                      Py_ssize_t *len, int writable)
{
    Py_ssize_t shape[2] = {n, 3};
    void *p = take(h, obj, name, kind, 2, shape, writable);
    if (p && len) *len = shape[0];
    return p;
}

static void *take_mat(Held *h, PyObject *obj, const char *name, Py_ssize_t rows, Py_ssize_t cols,
                      Py_ssize_t *rows_out, Kind kind, int writable)
{
    Py_ssize_t shape[2] = {rows, cols};
    void *p = take(h, obj, name, kind, 2, shape, writable);
    if (p && rows_out) *rows_out = shape[0];
    return p;
}

static int check_threads(int threads)
{
    if (threads < 1) {
        PyErr_SetString(PyExc_ValueError, "threads must be at least 1");
        return -1;
    }
    return 0;
}

/* ================================================================== the density grid */

typedef struct {
    const float *values;
    int64_t nx, ny, nz;
    double origin[3];
    double voxel[3];
    double to_index[9]; /* row-major: Cartesian offset -> distances along the grid axes */
} Grid;

/* values [z, y, x] float32, origin (3), voxel (3), to_index (3, 3), all float64. */
static int take_grid(Held *h, Grid *g, PyObject *values, PyObject *origin, PyObject *voxel,
                     PyObject *to_index)
{
    Py_ssize_t shape[3] = {-1, -1, -1};
    const float *v = take(h, values, "values", F32, 3, shape, 0);
    if (!v) return -1;
    const double *o = take_vec(h, origin, "origin", F64, 3, NULL, 0);
    if (!o) return -1;
    const double *s = take_vec(h, voxel, "voxel", F64, 3, NULL, 0);
    if (!s) return -1;
    const double *m = take_mat(h, to_index, "to_index", 3, 3, NULL, F64, 0);
    if (!m) return -1;
    if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1) {
        PyErr_SetString(PyExc_ValueError, "values must hold at least one voxel");
        return -1;
    }
    g->values = v;
    g->nz = shape[0];
    g->ny = shape[1];
    g->nx = shape[2];
    for (int a = 0; a < 3; a++) {
        g->origin[a] = o[a];
        g->voxel[a] = s[a];
    }
    for (int k = 0; k < 9; k++) g->to_index[k] = m[k];
    return 0;
}

/*
 * Trilinear value at a Cartesian point, 0 outside [0, n-1] on any axis, rounded to float32.
 * The offset from the origin goes through the (skewed) cell's index matrix; for an orthogonal
 * cell that matrix is the identity and the arithmetic is exactly (x - origin) / voxel.
 */
static double trilinear(const Grid *g, double x, double y, double z)
{
    double ox = x - g->origin[0], oy = y - g->origin[1], oz = z - g->origin[2];
    const double *m = g->to_index;
    double fx = (m[0] * ox + m[1] * oy + m[2] * oz) / g->voxel[0];
    double fy = (m[3] * ox + m[4] * oy + m[5] * oz) / g->voxel[1];
    double fz = (m[6] * ox + m[7] * oy + m[8] * oz) / g->voxel[2];
    if (!(fx >= 0.0 && fx <= (double)(g->nx - 1) && fy >= 0.0 && fy <= (double)(g->ny - 1) &&
          fz >= 0.0 && fz <= (double)(g->nz - 1)))
        return 0.0;
    int64_t mx = g->nx > 1 ? g->nx - 2 : 0, my = g->ny > 1 ? g->ny - 2 : 0,
            mz = g->nz > 1 ? g->nz - 2 : 0;
    int64_t ix = (int64_t)fx, iy = (int64_t)fy, iz = (int64_t)fz;
    if (ix > mx) ix = mx;
    if (iy > my) iy = my;
    if (iz > mz) iz = mz;
    double tx = fx - (double)ix, ty = fy - (double)iy, tz = fz - (double)iz;
    int64_t jx = ix + 1 < g->nx ? ix + 1 : g->nx - 1;
    int64_t jy = iy + 1 < g->ny ? iy + 1 : g->ny - 1;
    int64_t jz = iz + 1 < g->nz ? iz + 1 : g->nz - 1;
#define V(z, y, x) ((double)g->values[((z) * g->ny + (y)) * g->nx + (x)])
    double c00 = V(iz, iy, ix) * (1.0 - tx) + V(iz, iy, jx) * tx;
    double c01 = V(iz, jy, ix) * (1.0 - tx) + V(iz, jy, jx) * tx;
    double c10 = V(jz, iy, ix) * (1.0 - tx) + V(jz, iy, jx) * tx;
    double c11 = V(jz, jy, ix) * (1.0 - tx) + V(jz, jy, jx) * tx;
#undef V
    double c0 = c00 * (1.0 - ty) + c01 * ty;
    double c1 = c10 * (1.0 - ty) + c11 * ty;
    return (double)(float)(c0 * (1.0 - tz) + c1 * tz);
}

/* ================================================================== cell lists */

/*
 * Atoms sorted into cubic cells of side `size` starting at `lo`; cell (cx, cy, cz) holds
 * order[start[c] : start[c + 1]] with c = (cz * ny + cy) * nx + cx.
 */
typedef struct {
    double lo[3];
    double size;
    int64_t n[3];
    const int64_t *start;
    const int64_t *order;
    const double *xyz;
} Cells;

static int64_t cell_coord(double v, double lo, double size, int64_t n)
{
    double c = floor((v - lo) / size);
    if (!(c >= 0.0)) return 0; /* also NaN */
    return c >= (double)n ? n - 1 : (int64_t)c;
}

static int take_cells(Held *h, Cells *g, PyObject *xyz, PyObject *lo, double size, PyObject *dims,
                      PyObject *start, PyObject *order, Py_ssize_t *m)
{
    g->xyz = take_xyz(h, xyz, "neighbours", F64, -1, m, 0);
    if (!g->xyz) return -1;
    const double *l = take_vec(h, lo, "lo", F64, 3, NULL, 0);
    if (!l) return -1;
    const int64_t *d = take_vec(h, dims, "dims", I64, 3, NULL, 0);
    if (!d) return -1;
    if (!(size > 0.0) || !isfinite(size)) {
        PyErr_SetString(PyExc_ValueError, "cell size must be a positive number");
        return -1;
    }
    int64_t total = 1;
    for (int a = 0; a < 3; a++) {
        if (d[a] < 1 || d[a] > ((int64_t)1 << 40) / total) {
            PyErr_SetString(PyExc_ValueError, "cell grid dimensions out of range");
            return -1;
        }
        total *= d[a];
        g->lo[a] = l[a];
        g->n[a] = d[a];
    }
    g->size = size;
    g->start = take_vec(h, start, "start", I64, total + 1, NULL, 0);
    if (!g->start) return -1;
    g->order = take_vec(h, order, "order", I64, *m, NULL, 0);
    if (!g->order) return -1;
    if (g->start[0] != 0 || g->start[total] != *m) {
        PyErr_SetString(PyExc_ValueError, "start does not index order");
        return -1;
    }
    return 0;
}

/* Range of cells [lo, hi] along each axis that a ball of radius reach around p touches. */
static int cell_range(const Cells *g, const double *p, double reach, int64_t *lo, int64_t *hi)
{
    for (int a = 0; a < 3; a++) {
        double l = floor((p[a] - reach - g->lo[a]) / g->size);
        double u = floor((p[a] + reach - g->lo[a]) / g->size);
        if (!(u >= 0.0) || !(l <= (double)(g->n[a] - 1))) return 0;
        lo[a] = l < 0.0 ? 0 : (int64_t)l;
        hi[a] = u > (double)(g->n[a] - 1) ? g->n[a] - 1 : (int64_t)u;
    }
    return 1;
}

/* cell_sort(xyz, lo, size, dims, start, order): counting sort of the atoms into their cells. */
static PyObject *py_cell_sort(PyObject *self, PyObject *args)
{
    PyObject *xyz_o, *lo_o, *dims_o, *start_o, *order_o;
    double size;
    if (!PyArg_ParseTuple(args, "OOdOOO", &xyz_o, &lo_o, &size, &dims_o, &start_o, &order_o))
        return NULL;
    Held h = {.n = 0};
    Py_ssize_t m;
    const double *xyz = take_xyz(&h, xyz_o, "xyz", F64, -1, &m, 0);
    const double *lo = xyz ? take_vec(&h, lo_o, "lo", F64, 3, NULL, 0) : NULL;
    const int64_t *dims = lo ? take_vec(&h, dims_o, "dims", I64, 3, NULL, 0) : NULL;
    if (!dims) goto fail;
    if (!(size > 0.0) || !isfinite(size)) {
        PyErr_SetString(PyExc_ValueError, "cell size must be a positive number");
        goto fail;
    }
    int64_t total = 1;
    for (int a = 0; a < 3; a++) {
        if (dims[a] < 1 || dims[a] > ((int64_t)1 << 40) / total) {
            PyErr_SetString(PyExc_ValueError, "cell grid dimensions out of range");
            goto fail;
        }
        total *= dims[a];
    }
    int64_t *start = take_vec(&h, start_o, "start", I64, total + 1, NULL, 1);
    int64_t *order = start ? take_vec(&h, order_o, "order", I64, m, NULL, 1) : NULL;
    if (!order) goto fail;
    int64_t *cell = malloc((size_t)(m > 0 ? m : 1) * sizeof(int64_t));
    if (!cell) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    memset(start, 0, (size_t)(total + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < m; i++) {
        int64_t cx = cell_coord(xyz[3 * i], lo[0], size, dims[0]);
        int64_t cy = cell_coord(xyz[3 * i + 1], lo[1], size, dims[1]);
        int64_t cz = cell_coord(xyz[3 * i + 2], lo[2], size, dims[2]);
        cell[i] = (cz * dims[1] + cy) * dims[0] + cx;
        start[cell[i] + 1]++;
    }
    for (int64_t c = 0; c < total; c++) start[c + 1] += start[c];
    /* start[c + 1] is now the end of cell c. Filling back to front lists each cell's atoms in
       increasing index order and leaves start[c + 1] at the first position of cell c. */
    for (int64_t i = m - 1; i >= 0; i--) order[--start[cell[i] + 1]] = i;
    memmove(start, start + 1, (size_t)total * sizeof(int64_t));
    start[total] = m;
    Py_END_ALLOW_THREADS
    free(cell);
    release_all(&h);
    Py_RETURN_NONE;
fail:
    release_all(&h);
    return NULL;
}

/*
 * candidates(centres, xyz, lo, size, dims, start, order, reach): how many atoms the neighbour
 * search would look at for all centres together (atoms in the cells each centre's ball touches).
 * Cheap (no distances), so the engine can refuse a model that is too dense before the real work.
 */
static PyObject *py_candidates(PyObject *self, PyObject *args)
{
    PyObject *c_o, *xyz_o, *lo_o, *dims_o, *start_o, *order_o;
    double size, reach;
    if (!PyArg_ParseTuple(args, "OOOdOOOd", &c_o, &xyz_o, &lo_o, &size, &dims_o, &start_o,
                          &order_o, &reach))
        return NULL;
    Held h = {.n = 0};
    Cells g;
    Py_ssize_t n, m;
    const double *centres = take_xyz(&h, c_o, "centres", F64, -1, &n, 0);
    if (!centres || take_cells(&h, &g, xyz_o, lo_o, size, dims_o, start_o, order_o, &m) < 0) {
        release_all(&h);
        return NULL;
    }
    int64_t total = 0;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t i = 0; i < n; i++) {
        int64_t lo[3], hi[3];
        if (!cell_range(&g, centres + 3 * i, reach, lo, hi)) continue;
        for (int64_t cz = lo[2]; cz <= hi[2]; cz++)
            for (int64_t cy = lo[1]; cy <= hi[1]; cy++) {
                int64_t row = (cz * g.n[1] + cy) * g.n[0];
                total += g.start[row + hi[0] + 1] - g.start[row + lo[0]];
            }
    }
    Py_END_ALLOW_THREADS
    release_all(&h);
    return PyLong_FromLongLong((long long)total);
}

/*
 * The neighbours of point p within reach (its own position excluded), the `limit` nearest kept in
 * dist/idx sorted by distance then index. Returns how many were found in all (may exceed limit).
 */
static int64_t gather(const Cells *g, const double *p, double reach, int64_t limit, double *dist,
                      int64_t *idx)
{
    int64_t lo[3], hi[3], found = 0, kept = 0;
    if (!cell_range(g, p, reach, lo, hi)) return 0;
    double r2 = reach * reach;
    for (int64_t cz = lo[2]; cz <= hi[2]; cz++)
        for (int64_t cy = lo[1]; cy <= hi[1]; cy++) {
            int64_t row = (cz * g->n[1] + cy) * g->n[0];
            for (int64_t k = g->start[row + lo[0]]; k < g->start[row + hi[0] + 1]; k++) {
                int64_t j = g->order[k];
                const double *q = g->xyz + 3 * j;
                double dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];
                double d2 = dx * dx + dy * dy + dz * dz;
                if (!(d2 <= r2 && d2 > 1e-18)) continue;
                found++;
                double d = sqrt(d2);
                int64_t pos;
                if (kept < limit) pos = kept++;
                else if (d < dist[limit - 1] || (d == dist[limit - 1] && j < idx[limit - 1]))
                    pos = limit - 1;
                else continue;
                while (pos > 0 && (dist[pos - 1] > d || (dist[pos - 1] == d && idx[pos - 1] > j))) {
                    dist[pos] = dist[pos - 1];
                    idx[pos] = idx[pos - 1];
                    pos--;
                }
                dist[pos] = d;
                idx[pos] = j;
            }
        }
    return found;
}

/*
 * neighbours(centres, xyz, lo, size, dims, start, order, reach, threads, idx, dist, count):
 * for each centre, its nearest neighbours within reach (at most idx.shape[1] of them) in rows of
 * idx/dist, sorted by distance then index, and their number in count. Returns how many centres
 * had more neighbours than a row holds.
 */
static PyObject *py_neighbours(PyObject *self, PyObject *args)
{
    PyObject *c_o, *xyz_o, *lo_o, *dims_o, *start_o, *order_o, *idx_o, *dist_o, *count_o;
    double size, reach;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOdOOOdiOOO", &c_o, &xyz_o, &lo_o, &size, &dims_o, &start_o,
                          &order_o, &reach, &threads, &idx_o, &dist_o, &count_o))
        return NULL;
    Held h = {.n = 0};
    Cells g;
    Py_ssize_t n, m, limit = -1;
    const double *centres = take_xyz(&h, c_o, "centres", F64, -1, &n, 0);
    if (!centres || take_cells(&h, &g, xyz_o, lo_o, size, dims_o, start_o, order_o, &m) < 0 ||
        check_threads(threads) < 0)
        goto fail;
    Py_ssize_t shape[2] = {n, -1};
    int64_t *idx = take(&h, idx_o, "idx", I64, 2, shape, 1);
    if (!idx) goto fail;
    limit = shape[1];
    if (limit < 1) {
        PyErr_SetString(PyExc_ValueError, "idx must have room for at least one neighbour");
        goto fail;
    }
    double *dist = take_mat(&h, dist_o, "dist", n, limit, NULL, F64, 1);
    int64_t *count = dist ? take_vec(&h, count_o, "count", I64, n, NULL, 1) : NULL;
    if (!count) goto fail;
    int64_t over = 0;
    Py_BEGIN_ALLOW_THREADS
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads) reduction(+ : over)
    for (int64_t i = 0; i < n; i++) {
        int64_t found = gather(&g, centres + 3 * i, reach, limit, dist + i * limit, idx + i * limit);
        count[i] = found < limit ? found : limit;
        over += found > limit;
    }
    Py_END_ALLOW_THREADS
    release_all(&h);
    return PyLong_FromLongLong((long long)over);
fail:
    release_all(&h);
    return NULL;
}

/* ================================================================== shell points */

typedef struct {
    const double *xyz;  /* neighbour coordinates (float64) */
    const float *xyz32; /* the same rounded to float32 */
    const int64_t *idx; /* this centre's neighbours, sorted by distance */
    const double *dist;
    int64_t count;
} Neighbours;

typedef struct {
    const double *unit;     /* all spirals' unit vectors, concatenated */
    float *unit32;          /* the same in float32, x then y then z components (owned) */
    const int64_t *offsets; /* start of each spiral in unit, plus the end */
    int64_t n_sets;
    int64_t n_unit;     /* points of all spirals */
    int64_t max_points; /* points of the largest spiral */
} Spirals;

/*
 * One thread's scratch space: the neighbours that can reject the points of a shell, side by side
 * (float64, their float32-rounded coordinates, and their offsets from the centre in float32),
 * and the current try's points (offsets from the centre in float32, and their rejection flags).
 */
typedef struct {
    double *x, *y, *z, *x32, *y32, *z32;
    float *vx, *vy, *vz;
    float *ux, *uy, *uz;
    int32_t *sure, *maybe;
    int single_check; /* MapQ single-process: both precisions must reject */
    void *block;
} Work;

static void work_free(Work *w)
{
    free(w->block);
    w->block = NULL;
}

static int work_alloc(Work *w, int64_t neighbours, int64_t points, int single_check)
{
    size_t nb = (size_t)(neighbours > 0 ? neighbours : 1), np = (size_t)points;
    w->block = malloc(nb * (6 * sizeof(double) + 3 * sizeof(float)) +
                      np * (3 * sizeof(float) + 2 * sizeof(int32_t)));
    if (!w->block) return -1;
    double *d = w->block;
    w->x = d;
    w->y = d + nb;
    w->z = d + 2 * nb;
    w->x32 = d + 3 * nb;
    w->y32 = d + 4 * nb;
    w->z32 = d + 5 * nb;
    float *f = (float *)(d + 6 * nb);
    w->vx = f;
    w->vy = f + nb;
    w->vz = f + 2 * nb;
    w->ux = f + 3 * nb;
    w->uy = w->ux + np;
    w->uz = w->uy + np;
    w->sure = (int32_t *)(w->uz + np);
    w->maybe = w->sure + np;
    w->single_check = single_check;
    return 0;
}

/* 1 when neighbour j comes strictly closer than sqrt(lim2) to point p (in both precisions). */
static int rejects(const Work *w, int64_t j, double px, double py, double pz, double lim2)
{
    double dx = px - w->x[j], dy = py - w->y[j], dz = pz - w->z[j];
    if (!(dx * dx + dy * dy + dz * dz < lim2)) return 0;
    if (!w->single_check) return 1;
    dx = px - w->x32[j];
    dy = py - w->y32[j];
    dz = pz - w->z32[j];
    return dx * dx + dy * dy + dz * dz < lim2;
}

/*
 * Accepted points of one shell, written to out; returns their count (0: the shell is dropped).
 *
 * Spiral tries of 8, 10, ... points; the first with at least 8 points that no neighbour comes
 * strictly closer to than 0.9 R (in float64, and with single_check also with its coordinates
 * rounded to float32) is kept whole. Only neighbours within 1.9 R of the centre can reject.
 *
 * The tests run first in float32 on offsets from the centre, all points of a try against one
 * neighbour at a time (nearest first, so that a failing try is seen to fail early), in loops the
 * compiler vectorises. A float32 distance further than `slack` from the threshold decides; only
 * the few points within it are tested again exactly in float64. `slack` bounds the float32
 * rounding (about 1e-5 R^2; 1e-4 R^2 is used) plus the largest float32 rounding of a neighbour's
 * coordinates, so the accepted points are exactly those of the float64 tests.
 */
SHELL_CLONES
static int64_t shell_points(const double *c, double radius, const Neighbours *nb,
                            const Spirals *sp, Work *w, double *out)
{
    double lim2 = (REJECT_FACTOR * radius) * (REJECT_FACTOR * radius);
    double reach = (1.0 + REJECT_FACTOR) * radius + 1e-6;
    int64_t end = 0;
    while (end < nb->count && nb->dist[end] < reach) end++;
    double e2 = 0.0; /* largest squared distance between a neighbour and its float32 rounding */
    for (int64_t j = 0; j < end; j++) {
        int64_t a = nb->idx[j];
        w->x[j] = nb->xyz[3 * a];
        w->y[j] = nb->xyz[3 * a + 1];
        w->z[j] = nb->xyz[3 * a + 2];
        w->x32[j] = (double)nb->xyz32[3 * a];
        w->y32[j] = (double)nb->xyz32[3 * a + 1];
        w->z32[j] = (double)nb->xyz32[3 * a + 2];
        w->vx[j] = (float)(w->x[j] - c[0]);
        w->vy[j] = (float)(w->y[j] - c[1]);
        w->vz[j] = (float)(w->z[j] - c[2]);
        double ex = w->x[j] - w->x32[j], ey = w->y[j] - w->y32[j], ez = w->z[j] - w->z32[j];
        double e = ex * ex + ey * ey + ez * ez;
        if (e > e2) e2 = e;
    }
    double e = sqrt(e2);
    double slack = 1e-4 * (radius * radius + 1e-2) + 2.0 * radius * e + e * e;
    float lo = (float)(lim2 - slack), hi = (float)(lim2 + slack);
    if ((double)lo > lim2 - slack) lo = nextafterf(lo, -INFINITY);
    if ((double)hi < lim2 + slack) hi = nextafterf(hi, INFINITY);
    const float r = (float)radius;
    float *restrict ux = w->ux, *restrict uy = w->uy, *restrict uz = w->uz;
    int32_t *restrict sure = w->sure, *restrict maybe = w->maybe;
    for (int64_t t = 0; t < sp->n_sets; t++) {
        int64_t first = sp->offsets[t], n = sp->offsets[t + 1] - first;
        const float *u = sp->unit32 + first, *v = u + sp->n_unit, *z = v + sp->n_unit;
        for (int64_t k = 0; k < n; k++) {
            ux[k] = r * u[k];
            uy[k] = r * v[k];
            uz[k] = r * z[k];
            sure[k] = 0;
            maybe[k] = 0;
        }
        int32_t lost = 0;
        for (int64_t j = 0; j < end; j++) {
            const float x = w->vx[j], y = w->vy[j], z = w->vz[j];
            for (int64_t k = 0; k < n; k++) {
                float dx = ux[k] - x, dy = uy[k] - y, dz = uz[k] - z;
                float d2 = dx * dx + dy * dy + dz * dz;
                sure[k] |= d2 < lo;
                maybe[k] |= d2 < hi;
            }
            lost = 0;
            for (int64_t k = 0; k < n; k++) lost += sure[k];
            if (lost > n - MIN_POINTS) break;
        }
        if (lost > n - MIN_POINTS) continue;
        const double *ud = sp->unit + 3 * first;
        for (int64_t k = 0; k < n; k++) {
            if (sure[k] || !maybe[k]) continue;
            double px = c[0] + radius * ud[3 * k];
            double py = c[1] + radius * ud[3 * k + 1];
            double pz = c[2] + radius * ud[3 * k + 2];
            for (int64_t j = 0; j < end && !sure[k]; j++)
                sure[k] = rejects(w, j, px, py, pz, lim2);
            lost += sure[k];
        }
        if (n - lost < MIN_POINTS) continue;
        int64_t count = 0;
        for (int64_t k = 0; k < n; k++)
            if (!sure[k]) {
                out[3 * count] = c[0] + radius * ud[3 * k];
                out[3 * count + 1] = c[1] + radius * ud[3 * k + 1];
                out[3 * count + 2] = c[2] + radius * ud[3 * k + 2];
                count++;
            }
        return count;
    }
    return 0;
}

/* Chimera's one-pass correlation about the mean; 0 when undefined. */
static double pearson(double n, double sd, double sdd, double sg, double sgg, double sdg)
{
    double md = sd / n, mg = sg / n;
    double prod = (sdd - n * md * md) * (sgg - n * mg * mg);
    if (prod < 0.0) prod = 0.0;
    double root = sqrt(prod);
    if (!(root > 0.0)) return 0.0;
    return (sdg - n * md * mg) / root;
}

/* The spiral table; unit32 is allocated here and freed by the caller (also on failure). */
static int take_spirals(Held *h, Spirals *sp, PyObject *unit, PyObject *offsets)
{
    Py_ssize_t n_unit, n_off;
    sp->unit32 = NULL;
    sp->unit = take_xyz(h, unit, "unit", F64, -1, &n_unit, 0);
    if (!sp->unit) return -1;
    sp->offsets = take_vec(h, offsets, "set_offsets", I64, -1, &n_off, 0);
    if (!sp->offsets) return -1;
    if (n_off < 2 || sp->offsets[0] != 0 || sp->offsets[n_off - 1] != n_unit) {
        PyErr_SetString(PyExc_ValueError, "set_offsets must start at 0 and end at len(unit)");
        return -1;
    }
    sp->max_points = 0;
    for (Py_ssize_t t = 0; t + 1 < n_off; t++) {
        int64_t size = sp->offsets[t + 1] - sp->offsets[t];
        if (size < MIN_POINTS) {
            PyErr_SetString(PyExc_ValueError, "every spiral must hold at least 8 points");
            return -1;
        }
        if (size > sp->max_points) sp->max_points = size;
    }
    sp->n_sets = n_off - 1;
    sp->unit32 = malloc((size_t)(3 * n_unit) * sizeof(float));
    if (!sp->unit32) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n_unit; k++)
        for (int a = 0; a < 3; a++) sp->unit32[a * n_unit + k] = (float)sp->unit[3 * k + a];
    sp->n_unit = n_unit;
    return 0;
}

/* Neighbour coordinates: float64 (m, 3) and the same rounded to float32. */
static int take_neighbour_xyz(Held *h, PyObject *xyz, PyObject *xyz32, const double **out,
                              const float **out32, Py_ssize_t *m)
{
    *out = take_xyz(h, xyz, "neighbours", F64, -1, m, 0);
    if (!*out) return -1;
    *out32 = take_xyz(h, xyz32, "neighbours32", F32, *m, NULL, 0);
    return *out32 ? 0 : -1;
}

/* Every stored neighbour index must point into the neighbour coordinates. */
static int check_lists(const int64_t *idx, const int64_t *count, Py_ssize_t n, Py_ssize_t limit,
                       Py_ssize_t m)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        if (count[i] < 0 || count[i] > limit) {
            PyErr_SetString(PyExc_ValueError, "neighbour count out of range");
            return -1;
        }
        for (int64_t k = 0; k < count[i]; k++)
            if (idx[i * limit + k] < 0 || idx[i * limit + k] >= m) {
                PyErr_SetString(PyExc_ValueError, "neighbour index out of range");
                return -1;
            }
    }
    return 0;
}

/*
 * score(centres, neighbours, neighbours32, single_check, idx, dist, count, values, origin, voxel,
 *       to_index, radii, gvals, unit, set_offsets, threads, q): Q of every centre.
 */
static PyObject *py_score(PyObject *self, PyObject *args)
{
    PyObject *c_o, *xyz_o, *xyz32_o, *idx_o, *dist_o, *count_o, *val_o, *org_o, *vox_o, *ti_o,
        *rad_o, *gv_o, *unit_o, *off_o, *q_o;
    int single_check, threads;
    if (!PyArg_ParseTuple(args, "OOOpOOOOOOOOOOOiO", &c_o, &xyz_o, &xyz32_o, &single_check,
                          &idx_o, &dist_o, &count_o, &val_o, &org_o, &vox_o, &ti_o, &rad_o, &gv_o,
                          &unit_o, &off_o, &threads, &q_o))
        return NULL;
    Held h = {.n = 0};
    Grid grid;
    Spirals sp = {.unit32 = NULL};
    Py_ssize_t n, m, n_radii;
    const double *xyz;
    const float *xyz32;
    const double *centres = take_xyz(&h, c_o, "centres", F64, -1, &n, 0);
    if (!centres || take_neighbour_xyz(&h, xyz_o, xyz32_o, &xyz, &xyz32, &m) < 0) goto fail;
    Py_ssize_t shape[2] = {n, -1};
    const int64_t *idx = take(&h, idx_o, "idx", I64, 2, shape, 0);
    if (!idx) goto fail;
    Py_ssize_t limit = shape[1];
    const double *dist = take_mat(&h, dist_o, "dist", n, limit, NULL, F64, 0);
    const int64_t *count = dist ? take_vec(&h, count_o, "count", I64, n, NULL, 0) : NULL;
    if (!count || take_grid(&h, &grid, val_o, org_o, vox_o, ti_o) < 0) goto fail;
    const double *radii = take_vec(&h, rad_o, "radii", F64, -1, &n_radii, 0);
    const double *gvals = radii ? take_vec(&h, gv_o, "gvals", F64, n_radii, NULL, 0) : NULL;
    if (!gvals || take_spirals(&h, &sp, unit_o, off_o) < 0 || check_threads(threads) < 0)
        goto fail;
    double *q = take_vec(&h, q_o, "q", F64, n, NULL, 1);
    if (!q || check_lists(idx, count, n, limit, m) < 0) goto fail;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
#pragma omp parallel num_threads(threads)
    {
        double *buf = malloc((size_t)sp.max_points * 3 * sizeof(double));
        Work work = {.block = NULL};
        int ready = work_alloc(&work, limit, sp.max_points, single_check) == 0 && buf;
        if (!ready) {
#pragma omp critical
            failed = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int64_t i = 0; i < n; i++) {
            if (!ready) continue;
            const double *c = centres + 3 * i;
            Neighbours nb = {xyz, xyz32, idx + i * limit, dist + i * limit, count[i]};
            double d0 = trilinear(&grid, c[0], c[1], c[2]);
            double w = (double)CENTRE_WEIGHT;
            double cnt = w, sd = w * d0, sdd = w * d0 * d0, sg = w, sgg = w, sdg = w * d0;
            for (int64_t s = 0; s < n_radii; s++) {
                int64_t k = shell_points(c, radii[s], &nb, &sp, &work, buf);
                double gv = gvals[s];
                for (int64_t p = 0; p < k; p++) {
                    double d = trilinear(&grid, buf[3 * p], buf[3 * p + 1], buf[3 * p + 2]);
                    sd += d;
                    sdd += d * d;
                    sg += gv;
                    sgg += gv * gv;
                    sdg += d * gv;
                }
                cnt += (double)k;
            }
            q[i] = pearson(cnt, sd, sdd, sg, sgg, sdg);
        }
        free(buf);
        work_free(&work);
    }
    Py_END_ALLOW_THREADS
    free(sp.unit32);
    release_all(&h);
    if (failed) return PyErr_NoMemory();
    Py_RETURN_NONE;
fail:
    free(sp.unit32);
    release_all(&h);
    return NULL;
}

/*
 * shell_points(centre, radius, neighbours, neighbours32, single_check, idx, dist, unit,
 *              set_offsets, out): the accepted points of one shell of one centre (for the
 * radial-profile explorer); idx/dist are that centre's neighbour list. Returns their number.
 */
static PyObject *py_shell_points(PyObject *self, PyObject *args)
{
    PyObject *c_o, *xyz_o, *xyz32_o, *idx_o, *dist_o, *unit_o, *off_o, *out_o;
    double radius;
    int single_check;
    if (!PyArg_ParseTuple(args, "OdOOpOOOOO", &c_o, &radius, &xyz_o, &xyz32_o, &single_check,
                          &idx_o, &dist_o, &unit_o, &off_o, &out_o))
        return NULL;
    Held h = {.n = 0};
    Spirals sp = {.unit32 = NULL};
    Work work = {.block = NULL};
    Py_ssize_t m, k, rows;
    const double *xyz;
    const float *xyz32;
    const double *c = take_vec(&h, c_o, "centre", F64, 3, NULL, 0);
    if (!c || take_neighbour_xyz(&h, xyz_o, xyz32_o, &xyz, &xyz32, &m) < 0) goto fail;
    const int64_t *idx = take_vec(&h, idx_o, "idx", I64, -1, &k, 0);
    const double *dist = idx ? take_vec(&h, dist_o, "dist", F64, k, NULL, 0) : NULL;
    if (!dist || take_spirals(&h, &sp, unit_o, off_o) < 0) goto fail;
    double *out = take_xyz(&h, out_o, "out", F64, -1, &rows, 1);
    if (!out) goto fail;
    int64_t count = k;
    if (check_lists(idx, &count, 1, k, m) < 0) goto fail;
    if (sp.max_points > rows) {
        PyErr_SetString(PyExc_ValueError, "out must have a row for every point of a spiral");
        goto fail;
    }
    if (work_alloc(&work, k, sp.max_points, single_check) < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    Neighbours nb = {xyz, xyz32, idx, dist, k};
    int64_t accepted = shell_points(c, radius, &nb, &sp, &work, out);
    work_free(&work);
    free(sp.unit32);
    release_all(&h);
    return PyLong_FromLongLong((long long)accepted);
fail:
    free(sp.unit32);
    release_all(&h);
    return NULL;
}

/* ================================================================== sampling and splatting */

/* sample(points, values, origin, voxel, to_index, threads, out): trilinear values at points. */
static PyObject *py_sample(PyObject *self, PyObject *args)
{
    PyObject *p_o, *val_o, *org_o, *vox_o, *ti_o, *out_o;
    int threads;
    if (!PyArg_ParseTuple(args, "OOOOOiO", &p_o, &val_o, &org_o, &vox_o, &ti_o, &threads, &out_o))
        return NULL;
    Held h = {.n = 0};
    Grid g;
    Py_ssize_t n;
    const double *points = take_xyz(&h, p_o, "points", F64, -1, &n, 0);
    if (!points || take_grid(&h, &g, val_o, org_o, vox_o, ti_o) < 0 || check_threads(threads) < 0)
        goto fail;
    double *out = take_vec(&h, out_o, "out", F64, n, NULL, 1);
    if (!out) goto fail;
    Py_BEGIN_ALLOW_THREADS
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; i++)
        out[i] = trilinear(&g, points[3 * i], points[3 * i + 1], points[3 * i + 2]);
    Py_END_ALLOW_THREADS
    release_all(&h);
    Py_RETURN_NONE;
fail:
    release_all(&h);
    return NULL;
}

/*
 * splat(grid, origin, step, xyz, weight, sigma, radius): add w * exp(-r^2 / 2 sigma^2) within
 * radius of each atom to a float32 grid [z, y, x] (molmap).
 */
static PyObject *py_splat(PyObject *self, PyObject *args)
{
    PyObject *grid_o, *org_o, *step_o, *xyz_o, *w_o;
    double sigma, radius;
    if (!PyArg_ParseTuple(args, "OOOOOdd", &grid_o, &org_o, &step_o, &xyz_o, &w_o, &sigma,
                          &radius))
        return NULL;
    Held h = {.n = 0};
    Py_ssize_t shape[3] = {-1, -1, -1}, n;
    float *grid = take(&h, grid_o, "grid", F32, 3, shape, 1);
    const double *origin = grid ? take_vec(&h, org_o, "origin", F64, 3, NULL, 0) : NULL;
    const double *step = origin ? take_vec(&h, step_o, "step", F64, 3, NULL, 0) : NULL;
    const double *xyz = step ? take_xyz(&h, xyz_o, "xyz", F64, -1, &n, 0) : NULL;
    const double *weight = xyz ? take_vec(&h, w_o, "weight", F64, n, NULL, 0) : NULL;
    if (!weight) {
        release_all(&h);
        return NULL;
    }
    int64_t nz = shape[0], ny = shape[1], nx = shape[2];
    Py_BEGIN_ALLOW_THREADS
    double inv2s2 = 0.5 / (sigma * sigma), r2max = radius * radius;
    int64_t dims[3] = {nx, ny, nz};
    for (int64_t a = 0; a < n; a++) {
        int64_t lo[3], hi[3];
        int empty = 0;
        for (int k = 0; k < 3; k++) {
            double gk = (xyz[3 * a + k] - origin[k]) / step[k], r = radius / step[k];
            double l = ceil(gk - r), u = floor(gk + r);
            if (!(u >= 0.0) || !(l <= (double)(dims[k] - 1))) {
                empty = 1;
                break;
            }
            lo[k] = l < 0.0 ? 0 : (int64_t)l;
            hi[k] = u > (double)(dims[k] - 1) ? dims[k] - 1 : (int64_t)u;
        }
        if (empty) continue;
        double w = weight[a];
        for (int64_t iz = lo[2]; iz <= hi[2]; iz++) {
            double dz = origin[2] + (double)iz * step[2] - xyz[3 * a + 2];
            for (int64_t iy = lo[1]; iy <= hi[1]; iy++) {
                double dy = origin[1] + (double)iy * step[1] - xyz[3 * a + 1];
                double dzy = dz * dz + dy * dy;
                if (dzy > r2max) continue;
                float *row = grid + (iz * ny + iy) * nx;
                for (int64_t ix = lo[0]; ix <= hi[0]; ix++) {
                    double dx = origin[0] + (double)ix * step[0] - xyz[3 * a];
                    double d2 = dzy + dx * dx;
                    if (d2 <= r2max) row[ix] = (float)((double)row[ix] + w * exp(-d2 * inv2s2));
                }
            }
        }
    }
    Py_END_ALLOW_THREADS
    release_all(&h);
    Py_RETURN_NONE;
}

/* max_threads(): OpenMP's default number of threads (1 without OpenMP). */
static PyObject *py_max_threads(PyObject *self, PyObject *unused)
{
#ifdef _OPENMP
    return PyLong_FromLong(omp_get_max_threads());
#else
    return PyLong_FromLong(1);
#endif
}

/* ================================================================== module */

static PyMethodDef methods[] = {
    {"cell_sort", py_cell_sort, METH_VARARGS, "Counting sort of atoms into cubic cells."},
    {"candidates", py_candidates, METH_VARARGS,
     "Number of atoms a neighbour search around the centres would look at."},
    {"neighbours", py_neighbours, METH_VARARGS,
     "Nearest neighbours within reach of each centre, sorted by distance."},
    {"score", py_score, METH_VARARGS, "Per-atom Q of every centre (MapQ's algorithm)."},
    {"shell_points", py_shell_points, METH_VARARGS, "Accepted points of one shell."},
    {"sample", py_sample, METH_VARARGS, "Trilinear map values at points."},
    {"splat", py_splat, METH_VARARGS, "Add Gaussians around atoms to a grid (molmap)."},
    {"max_threads", py_max_threads, METH_NOARGS, "OpenMP's default number of threads."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef kernel_module = {
    PyModuleDef_HEAD_INIT,
    "_kernel",
    "Compiled core of qscore.engine; use it through qscore.engine.compiled.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__kernel(void)
{
    PyObject *module = PyModule_Create(&kernel_module);
    if (!module) return NULL;
#ifdef _OPENMP
    const int openmp = 1;
#else
    const int openmp = 0;
#endif
    if (PyModule_AddIntConstant(module, "openmp", openmp) < 0 ||
        PyModule_AddIntConstant(module, "MIN_POINTS", MIN_POINTS) < 0 ||
        PyModule_AddIntConstant(module, "CENTRE_WEIGHT", CENTRE_WEIGHT) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
