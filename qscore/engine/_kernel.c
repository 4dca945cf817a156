/*
 * Compiled core of qscore.engine: neighbour lists, MapQ's shell points and per-atom Q.
 *
 * Plain C99 with OpenMP, called through ctypes on arrays owned by NumPy. Every atom is computed
 * independently, so results do not depend on the number of threads. Floating-point contraction is
 * disabled at build time so that the arithmetic matches the double-precision reference exactly.
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

#define MIN_POINTS 8
#define CENTRE_WEIGHT 8
#define REJECT_FACTOR 0.9

/* ------------------------------------------------------------------ neighbour lists */

static int64_t cell_of(double v, double lo, double size, int64_t n)
{
    int64_t c = (int64_t)floor((v - lo) / size);
    return c < 0 ? 0 : (c >= n ? n - 1 : c);
}

/* Sort (dist, idx) pairs of one list by distance, then index (insertion sort: lists are short). */
static void sort_pairs(double *dist, int64_t *idx, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        double d = dist[i];
        int64_t k = idx[i];
        int64_t j = i - 1;
        while (j >= 0 && (dist[j] > d || (dist[j] == d && idx[j] > k))) {
            dist[j + 1] = dist[j];
            idx[j + 1] = idx[j];
            j--;
        }
        dist[j + 1] = d;
        idx[j + 1] = k;
    }
}

typedef struct {
    double lo[3];
    double size;
    int64_t n[3];
    int64_t *start; /* cell -> first position in order[] */
    int64_t *order; /* atoms sorted by cell */
} CellGrid;

static int grid_build(CellGrid *g, const double *xyz, int64_t m, double size)
{
    double hi[3];
    for (int a = 0; a < 3; a++) {
        g->lo[a] = INFINITY;
        hi[a] = -INFINITY;
    }
    for (int64_t i = 0; i < m; i++)
        for (int a = 0; a < 3; a++) {
            double v = xyz[3 * i + a];
            if (v < g->lo[a]) g->lo[a] = v;
            if (v > hi[a]) hi[a] = v;
        }
    g->size = size;
    int64_t total = 1;
    for (int a = 0; a < 3; a++) {
        g->n[a] = (int64_t)floor((hi[a] - g->lo[a]) / size) + 1;
        if (g->n[a] < 1) g->n[a] = 1;
        total *= g->n[a];
    }
    if (total > 4 * m + 1000) return -1; /* caller falls back to a coarser grid */
    g->start = calloc((size_t)total + 1, sizeof(int64_t));
    g->order = malloc((size_t)(m > 0 ? m : 1) * sizeof(int64_t));
    int64_t *cell = malloc((size_t)(m > 0 ? m : 1) * sizeof(int64_t));
    if (!g->start || !g->order || !cell) {
        free(g->start);
        free(g->order);
        free(cell);
        return -2;
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t cx = cell_of(xyz[3 * i], g->lo[0], size, g->n[0]);
        int64_t cy = cell_of(xyz[3 * i + 1], g->lo[1], size, g->n[1]);
        int64_t cz = cell_of(xyz[3 * i + 2], g->lo[2], size, g->n[2]);
        cell[i] = (cz * g->n[1] + cy) * g->n[0] + cx;
        g->start[cell[i] + 1]++;
    }
    for (int64_t c = 0; c < total; c++) g->start[c + 1] += g->start[c];
    int64_t *fill = malloc((size_t)total * sizeof(int64_t) + 1);
    if (!fill) {
        free(cell);
        return -2;
    }
    memcpy(fill, g->start, (size_t)total * sizeof(int64_t));
    for (int64_t i = 0; i < m; i++) g->order[fill[cell[i]]++] = i;
    free(fill);
    free(cell);
    return 0;
}

static void grid_free(CellGrid *g)
{
    free(g->start);
    free(g->order);
}

/* Visit the neighbours of point p within reach; count only (out == NULL) or write them. */
static int64_t grid_query(const CellGrid *g, const double *xyz, const double *p, double reach,
                          double *out_dist, int64_t *out_idx)
{
    int64_t lo[3], hi[3], count = 0;
    for (int a = 0; a < 3; a++) {
        lo[a] = (int64_t)floor((p[a] - reach - g->lo[a]) / g->size);
        hi[a] = (int64_t)floor((p[a] + reach - g->lo[a]) / g->size);
        if (lo[a] < 0) lo[a] = 0;
        if (hi[a] > g->n[a] - 1) hi[a] = g->n[a] - 1;
        if (lo[a] > hi[a]) return 0;
    }
    double r2 = reach * reach;
    for (int64_t cz = lo[2]; cz <= hi[2]; cz++)
        for (int64_t cy = lo[1]; cy <= hi[1]; cy++)
            for (int64_t cx = lo[0]; cx <= hi[0]; cx++) {
                int64_t c = (cz * g->n[1] + cy) * g->n[0] + cx;
                for (int64_t k = g->start[c]; k < g->start[c + 1]; k++) {
                    int64_t j = g->order[k];
                    double dx = xyz[3 * j] - p[0], dy = xyz[3 * j + 1] - p[1],
                           dz = xyz[3 * j + 2] - p[2];
                    double d2 = dx * dx + dy * dy + dz * dz;
                    if (d2 <= r2 && d2 > 1e-18) {
                        if (out_idx) {
                            out_dist[count] = sqrt(d2);
                            out_idx[count] = j;
                        }
                        count++;
                    }
                }
            }
    return count;
}

/* Pass 1: number of neighbours of each centre within reach (the centre's own position excluded). */
int64_t qs_neighbour_counts(int64_t n, const double *centres, int64_t m, const double *nb_xyz,
                            double reach, int threads, int64_t *counts)
{
    CellGrid g;
    double size = reach;
    int status;
    while ((status = grid_build(&g, nb_xyz, m, size)) == -1) size *= 2.0;
    if (status) return -1;
    int64_t total = 0;
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads) reduction(+ : total)
    for (int64_t i = 0; i < n; i++) {
        counts[i] = grid_query(&g, nb_xyz, centres + 3 * i, reach, NULL, NULL);
        total += counts[i];
    }
    grid_free(&g);
    return total;
}

/* Pass 2: the neighbour lists in CSR form (offsets from pass 1), each sorted by distance. */
int qs_neighbour_lists(int64_t n, const double *centres, int64_t m, const double *nb_xyz,
                       double reach, int threads, const int64_t *offsets, int64_t *idx,
                       double *dist)
{
    CellGrid g;
    double size = reach;
    int status;
    while ((status = grid_build(&g, nb_xyz, m, size)) == -1) size *= 2.0;
    if (status) return -1;
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads)
    for (int64_t i = 0; i < n; i++) {
        int64_t k = grid_query(&g, nb_xyz, centres + 3 * i, reach, dist + offsets[i],
                               idx + offsets[i]);
        sort_pairs(dist + offsets[i], idx + offsets[i], k);
    }
    grid_free(&g);
    return 0;
}

/* ------------------------------------------------------------------ sampling */

typedef struct {
    const float *values;
    int64_t nx, ny, nz;
    double origin[3];
    double voxel[3];
    double to_index[9]; /* row-major: Cartesian offset -> distances along the grid axes */
} Grid;

static void grid_init(Grid *g, const float *values, int64_t nz, int64_t ny, int64_t nx,
                      const double *origin, const double *voxel, const double *to_index)
{
    g->values = values;
    g->nx = nx;
    g->ny = ny;
    g->nz = nz;
    for (int a = 0; a < 3; a++) {
        g->origin[a] = origin[a];
        g->voxel[a] = voxel[a];
    }
    for (int k = 0; k < 9; k++) g->to_index[k] = to_index[k];
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

void qs_sample(int64_t n, const double *points, const float *values, int64_t nz, int64_t ny,
               int64_t nx, const double *origin, const double *voxel, const double *to_index,
               int threads, double *out)
{
    Grid g;
    grid_init(&g, values, nz, ny, nx, origin, voxel, to_index);
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; i++)
        out[i] = trilinear(&g, points[3 * i], points[3 * i + 1], points[3 * i + 2]);
}

/* ------------------------------------------------------------------ shell points */

typedef struct {
    const double *xyz;   /* neighbour coordinates (float64) */
    const double *xyz32; /* the same rounded to float32 */
    int single_check;    /* MapQ single-process: both precisions must reject */
    const int64_t *idx;  /* this centre's neighbours, sorted by distance */
    const double *dist;
    int64_t count;
} Neighbours;

static int rejects(const Neighbours *nb, int64_t j, double px, double py, double pz, double lim2)
{
    int64_t a = nb->idx[j];
    double dx = px - nb->xyz[3 * a], dy = py - nb->xyz[3 * a + 1], dz = pz - nb->xyz[3 * a + 2];
    if (!(dx * dx + dy * dy + dz * dz < lim2)) return 0;
    if (!nb->single_check) return 1;
    dx = px - nb->xyz32[3 * a];
    dy = py - nb->xyz32[3 * a + 1];
    dz = pz - nb->xyz32[3 * a + 2];
    return dx * dx + dy * dy + dz * dz < lim2;
}

/*
 * Accepted points of one shell, written to out; returns their count (0: the shell is dropped).
 * Spiral tries of 8, 10, ... points; the first with at least 8 points that no neighbour comes
 * strictly closer to than 0.9 R is kept whole. Only neighbours within 1.9 R of the centre can
 * reject, and the last neighbour that rejected is tried first (same answer, fewer tests).
 */
static int64_t shell_points(const double *c, double radius, const Neighbours *nb,
                            const double *unit, const int64_t *set_offsets, int64_t n_sets,
                            double *out)
{
    double lim2 = (REJECT_FACTOR * radius) * (REJECT_FACTOR * radius);
    double reach = (1.0 + REJECT_FACTOR) * radius + 1e-6;
    int64_t end = 0;
    while (end < nb->count && nb->dist[end] < reach) end++;
    int64_t last = -1;
    for (int64_t t = 0; t < n_sets; t++) {
        int64_t count = 0;
        for (int64_t k = set_offsets[t]; k < set_offsets[t + 1]; k++) {
            double px = c[0] + radius * unit[3 * k];
            double py = c[1] + radius * unit[3 * k + 1];
            double pz = c[2] + radius * unit[3 * k + 2];
            int ok = 1;
            if (last >= 0 && rejects(nb, last, px, py, pz, lim2)) ok = 0;
            for (int64_t j = 0; ok && j < end; j++)
                if (j != last && rejects(nb, j, px, py, pz, lim2)) {
                    ok = 0;
                    last = j;
                }
            if (ok) {
                out[3 * count] = px;
                out[3 * count + 1] = py;
                out[3 * count + 2] = pz;
                count++;
            }
        }
        if (count >= MIN_POINTS) return count;
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

/* Q of every centre. */
int qs_score(int64_t n, const double *centres, const double *nb_xyz, const double *nb_xyz32,
             int single_check, const int64_t *nb_offsets, const int64_t *nb_idx,
             const double *nb_dist, const float *values, int64_t nz, int64_t ny, int64_t nx,
             const double *origin, const double *voxel, const double *to_index, int64_t n_radii,
             const double *radii, const double *gvals, const double *unit,
             const int64_t *set_offsets, int64_t n_sets, int threads, double *q)
{
    Grid g;
    grid_init(&g, values, nz, ny, nx, origin, voxel, to_index);
    int64_t max_points = set_offsets[n_sets] - set_offsets[n_sets - 1];
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        double *buf = malloc((size_t)max_points * 3 * sizeof(double));
        if (!buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int64_t i = 0; i < n; i++) {
            if (!buf) continue;
            const double *c = centres + 3 * i;
            Neighbours nb = {nb_xyz, nb_xyz32, single_check, nb_idx + nb_offsets[i],
                             nb_dist + nb_offsets[i], nb_offsets[i + 1] - nb_offsets[i]};
            double d0 = trilinear(&g, c[0], c[1], c[2]);
            double w = (double)CENTRE_WEIGHT;
            double cnt = w, sd = w * d0, sdd = w * d0 * d0, sg = w, sgg = w, sdg = w * d0;
            for (int64_t s = 0; s < n_radii; s++) {
                int64_t k = shell_points(c, radii[s], &nb, unit, set_offsets, n_sets, buf);
                double gv = gvals[s];
                for (int64_t p = 0; p < k; p++) {
                    double d = trilinear(&g, buf[3 * p], buf[3 * p + 1], buf[3 * p + 2]);
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
    }
    return failed ? -1 : 0;
}

/* The accepted points of every shell of one centre (for the radial-profile explorer). */
int64_t qs_shell_points(const double *centre, double radius, const double *nb_xyz,
                        const double *nb_xyz32, int single_check, const int64_t *nb_idx,
                        const double *nb_dist, int64_t count, const double *unit,
                        const int64_t *set_offsets, int64_t n_sets, double *out)
{
    Neighbours nb = {nb_xyz, nb_xyz32, single_check, nb_idx, nb_dist, count};
    return shell_points(centre, radius, &nb, unit, set_offsets, n_sets, out);
}

/* Add w * exp(-r^2 / 2 sigma^2) within radius of each atom to a float32 grid [z, y, x] (molmap). */
void qs_splat(float *grid, int64_t nz, int64_t ny, int64_t nx, const double *origin,
              const double *step, int64_t n, const double *xyz, const double *weight,
              double sigma, double radius)
{
    double inv2s2 = 0.5 / (sigma * sigma), r2max = radius * radius;
    int64_t dims[3] = {nx, ny, nz};
    for (int64_t a = 0; a < n; a++) {
        int64_t lo[3], hi[3];
        int empty = 0;
        for (int k = 0; k < 3; k++) {
            double gk = (xyz[3 * a + k] - origin[k]) / step[k], r = radius / step[k];
            lo[k] = (int64_t)ceil(gk - r);
            hi[k] = (int64_t)floor(gk + r);
            if (lo[k] < 0) lo[k] = 0;
            if (hi[k] > dims[k] - 1) hi[k] = dims[k] - 1;
            if (lo[k] > hi[k]) empty = 1;
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
}

int qs_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* An importable module, so the build tools place the library next to the package. */
static struct PyModuleDef kernel_module = {PyModuleDef_HEAD_INIT, "_kernel",
                                           "Compiled core of qscore.engine (used via ctypes).", -1,
                                           NULL};

PyMODINIT_FUNC PyInit__kernel(void) { return PyModule_Create(&kernel_module); }
