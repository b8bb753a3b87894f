/* test_world.c — the synthetic world, task splits, supervisors and pretraining. */
#include <math.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "dmat.h"
#include "pretrain.h"
#include "rng.h"
#include "supervisor.h"
#include "testutil.h"
#include "world.h"

static W2Sweep S;

static void sweep_small(W2Sweep *s) {
  memset(s, 0, sizeof *s);
  s->world.seed = 7;
  s->world.latent_dim = 16;
  s->world.input_dim = 64;
  s->world.render_depth = 3;
  s->world.render_gain = 0.5;
  s->world.pretrain_targets = 256;
  s->world.input_noise = 0.0;
  s->split.n_a = 300;
  s->split.n_b = 400;
  s->split.n_test = 500;
  s->pretrain.hyper.epochs = 8;
  s->pretrain.hyper.batch = 32;
  s->pretrain.hyper.lr = 3e-3f;
  s->pretrain.hyper.warmup_frac = 0.05f;
  s->pretrain.hyper.sched = W2_SCHED_COSINE;
  s->pretrain.examples_per_param = 0.5;
  s->pretrain.min_examples = 1500;
  s->pretrain.max_examples = 3000;
  s->pretrain.act = W2_ACT_RELU;
}

static W2TaskSpec task(const char *name, W2TaskKind k) {
  W2TaskSpec t;
  memset(&t, 0, sizeof t);
  snprintf(t.name, sizeof t.name, "%s", name);
  t.kind = k;
  return t;
}

static void test_spec_errors(void) {
  W2WorldSpec ws = S.world;
  W2World *w = NULL;
  ws.render_depth = 0;
  W2T_CHECK(w2_world_create(&ws, &w) == W2_ERR_CONFIG && w == NULL,
            "render_depth 0 must be a config error");
  W2T_CHECK(strstr(w2_error_message(), "world.render_depth") != NULL,
            "message names the field: %s", w2_error_message());
  ws = S.world;
  ws.input_noise = -1;
  W2T_CHECK(w2_world_create(&ws, &w) == W2_ERR_CONFIG, "negative noise rejected");
  W2T_CHECK(strstr(w2_error_message(), "world.input_noise") != NULL, "names input_noise");
  w2_error_clear();
}

/* Rows are a pure function of (key, index): any range, any order, same bits. */
static void test_sampling_pure(const W2World *w) {
  int d = w->spec.input_dim, dz = w->spec.latent_dim, n = 200;
  uint64_t key = w2_key(3, "test-stream", 0, 0);
  float *X = malloc(sizeof(float) * n * d), *Z = malloc(sizeof(float) * n * dz);
  float *x = malloc(sizeof(float) * 40 * d), *z = malloc(sizeof(float) * 40 * dz);
  w2_world_sample(w, key, 1000, n, X, Z);
  w2_world_sample(w, key, 1000 + 57, 40, x, z);
  W2T_CHECK(memcmp(x, X + (size_t)57 * d, sizeof(float) * 40 * d) == 0,
            "subset of rows regenerated bitwise (X)");
  W2T_CHECK(memcmp(z, Z + (size_t)57 * dz, sizeof(float) * 40 * dz) == 0,
            "subset of rows regenerated bitwise (Z)");
  int same = 1;
  for (int i = n - 1; i >= 0; i -= 13) {
    w2_world_sample(w, key, 1000 + i, 1, x, NULL);
    same &= memcmp(x, X + (size_t)i * d, sizeof(float) * d) == 0;
  }
  W2T_CHECK(same, "single rows in reverse order regenerate bitwise");
  /* a second world from the same spec is the same world */
  W2World *w2 = NULL;
  W2T_OK(w2_world_create(&w->spec, &w2));
  if (w2) {
    w2_world_sample(w2, key, 1000 + 57, 40, x, NULL);
    W2T_CHECK(memcmp(x, X + (size_t)57 * d, sizeof(float) * 40 * d) == 0,
              "the world is a function of its spec");
  }
  w2_world_destroy(&w2);
  /* standardized inputs: mean ~0, std ~1 over the draw */
  double m = 0, v = 0;
  for (int i = 0; i < n * d; i++) m += X[i];
  m /= n * d;
  for (int i = 0; i < n * d; i++) v += (X[i] - m) * (X[i] - m);
  v /= n * d;
  W2T_CHECK(fabs(m) < 0.2 && v > 0.6 && v < 1.4, "inputs standardized: mean %g var %g", m, v);
  free(X);
  free(Z);
  free(x);
  free(z);
}

static int rows_equal(const float *a, const float *b, int d) {
  return memcmp(a, b, sizeof(float) * d) == 0;
}

static void test_task_data(const W2World *w) {
  W2TaskSpec tasks[3] = {task("linear", W2_TASK_LINEAR), task("nonlinear", W2_TASK_NONLINEAR),
                         task("sparse", W2_TASK_SPARSE)};
  int d = w->spec.input_dim, K = w->spec.pretrain_targets;
  /* the pretraining pool of the same seed, for the disjointness check */
  int np = 600;
  float *P = malloc(sizeof(float) * np * d);
  w2_world_sample(w, w2_pretrain_data_key(&S.world, 5), 0, np, P, NULL);
  float *ylab[3] = {NULL, NULL, NULL};
  W2TaskData *keep = NULL;
  for (int t = 0; t < 3; t++) {
    W2TaskData *td = NULL;
    W2T_OK(w2_task_data_create(&S, w, &tasks[t], 5, &td));
    if (!td) continue;
    W2T_CHECK(td->n_a == 300 && td->n_b == 400 && td->n_test == 500 && td->d == d,
              "split sizes from the sweep");
    /* row identities: disjoint ranges */
    int ids_ok = 1;
    for (int i = 0; i < td->n_a; i++) ids_ok &= td->ida[i] == i;
    for (int i = 0; i < td->n_b; i++) ids_ok &= td->idb[i] == td->n_a + i;
    for (int i = 0; i < td->n_test; i++) ids_ok &= td->idt[i] == td->n_a + td->n_b + i;
    W2T_CHECK(ids_ok, "%s: A, B, test are disjoint index ranges", tasks[t].name);
    /* and no input row is shared between splits or with the pretraining pool */
    int shared = 0;
    const float *Xs[3] = {td->Xa, td->Xb, td->Xt};
    int ns[3] = {td->n_a, td->n_b, td->n_test};
    for (int a = 0; a < 3; a++) {
      for (int b = a + 1; b < 3; b++)
        for (int i = 0; i < ns[a]; i++)
          for (int j = 0; j < ns[b]; j++)
            shared += rows_equal(Xs[a] + (size_t)i * d, Xs[b] + (size_t)j * d, d);
      for (int i = 0; i < ns[a]; i++)
        for (int j = 0; j < np; j++)
          shared += rows_equal(Xs[a] + (size_t)i * d, P + (size_t)j * d, d);
    }
    W2T_CHECK(shared == 0, "%s: %d rows shared between splits / pretraining", tasks[t].name,
              shared);
    /* balanced labels */
    double pt = 0;
    for (int i = 0; i < td->n_test; i++) pt += td->yt[i];
    pt /= td->n_test;
    W2T_CHECK(td->prior >= 0.3 && td->prior <= 0.7 && pt >= 0.3 && pt <= 0.7,
              "%s: label prior %.3f (A u B), %.3f (test) within [0.3, 0.7]", tasks[t].name,
              td->prior, pt);
    /* labels are those of the task function on the stored latents */
    float *y = malloc(sizeof(float) * td->n_b);
    W2T_OK(w2_world_task_labels(w, &tasks[t], td->Zb, td->n_b, y));
    W2T_CHECK(memcmp(y, td->yb, sizeof(float) * td->n_b) == 0, "%s: yb = task(Zb)",
              tasks[t].name);
    free(y);
    /* generative finetuning data: A then B inputs, pretraining targets */
    W2T_CHECK(td->n_u == td->n_a + td->n_b && td->k_u == K, "n_u, k_u");
    W2T_CHECK(rows_equal(td->Xu + (size_t)td->n_a * d, td->Xb, d), "Xu row n_a = Xb row 0");
    float *yk = malloc(sizeof(float) * K);
    w2_world_pretrain_targets_row(w, td->Zb, yk);
    W2T_CHECK(memcmp(yk, td->Yu + (size_t)td->n_a * K, sizeof(float) * K) == 0,
              "Yu holds pretraining targets");
    free(yk);
    ylab[t] = malloc(sizeof(float) * td->n_test);
    memcpy(ylab[t], td->yt, sizeof(float) * td->n_test);
    if (t == 2) keep = td;
    else w2_task_data_destroy(&td);
  }
  /* different tasks are different functions */
  if (ylab[0] && ylab[1] && ylab[2]) {
    int n01 = 0, n02 = 0;
    for (int i = 0; i < 500; i++) {
      n01 += ylab[0][i] != ylab[1][i];
      n02 += ylab[0][i] != ylab[2][i];
    }
    W2T_CHECK(n01 > 50 && n02 > 50, "tasks differ (%d, %d of 500 labels)", n01, n02);
  }
  /* pretraining targets never equal a task's labels: |corr| < 0.99 with every target */
  if (keep) {
    int n = keep->n_test;
    float *Y = malloc(sizeof(float) * (size_t)n * K);
    w2_world_pretrain_targets(w, keep->Zt, n, Y);
    double worst = 0;
    for (int t = 0; t < 3; t++) {
      double my = 0;
      for (int i = 0; i < n; i++) my += ylab[t][i];
      my /= n;
      for (int k = 0; k < K; k++) {
        double mk = 0, sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) mk += Y[(size_t)i * K + k];
        mk /= n;
        for (int i = 0; i < n; i++) {
          double a = Y[(size_t)i * K + k] - mk, b = ylab[t][i] - my;
          sxy += a * b;
          sxx += a * a;
          syy += b * b;
        }
        double c = (sxx > 0 && syy > 0) ? fabs(sxy / sqrt(sxx * syy)) : 0;
        if (c > worst) worst = c;
      }
    }
    W2T_CHECK(worst < 0.99, "max |corr(pretraining target, task label)| = %.3f < 0.99", worst);
    free(Y);
  }
  /* a missing data file is an I/O error and leaves nothing behind */
  W2TaskSpec ft = task("mine", W2_TASK_FILE);
  snprintf(ft.file, sizeof ft.file, "no_such_file_test_world.h5");
  W2TaskData *none = NULL;
  W2T_CHECK(w2_task_data_create(&S, w, &ft, 5, &none) == W2_ERR_IO && none == NULL,
            "missing file task -> W2_ERR_IO");
  w2_error_clear();
  for (int t = 0; t < 3; t++) free(ylab[t]);
  free(P);

  if (keep) {
    /* supervisors: exact error counts and the promised structure */
    W2SupervisorKind kinds[3] = {W2_SUP_UNIFORM, W2_SUP_LATENT, W2_SUP_UNLEARNABLE};
    double rates[4] = {0.0, 0.1, 0.25, 0.37};
    float *sb = malloc(sizeof(float) * keep->n_b), *st = malloc(sizeof(float) * keep->n_test);
    float *sb2 = malloc(sizeof(float) * keep->n_b);
    for (int k = 0; k < 3; k++)
      for (int r = 0; r < 4; r++) {
        W2SupervisorSpec sup;
        memset(&sup, 0, sizeof sup);
        snprintf(sup.name, sizeof sup.name, "sup%d", k);
        sup.kind = kinds[k];
        sup.error_rate = rates[r];
        sup.confidence = 0.8;
        W2T_OK(w2_supervisor_labels(&sup, keep, 11, sb, st));
        int eb = 0, et = 0, soft_ok = 1;
        double zf = 0, zu = 0;
        int nf = 0, nu = 0;
        for (int i = 0; i < keep->n_b; i++) {
          int stated = sb[i] > 0.5f, wrong = stated != (keep->yb[i] > 0.5f);
          eb += wrong;
          soft_ok &= fabsf(sb[i] - 0.8f) < 1e-6f || fabsf(sb[i] - 0.2f) < 1e-6f;
          double z0 = keep->Zb[(size_t)i * keep->dz];
          if (wrong) { zf += z0; nf++; } else { zu += z0; nu++; }
        }
        for (int i = 0; i < keep->n_test; i++) et += (st[i] > 0.5f) != (keep->yt[i] > 0.5f);
        int want_b = (int)floor(rates[r] * keep->n_b + 0.5);
        int want_t = (int)floor(rates[r] * keep->n_test + 0.5);
        W2T_CHECK(eb == want_b && et == want_t, "%s rate %g: %d/%d errors on B, %d/%d on test",
                  w2_supervisor_kind_name(kinds[k]), rates[r], eb, want_b, et, want_t);
        W2T_CHECK(soft_ok, "soft labels are confidence / 1 - confidence");
        if (kinds[k] == W2_SUP_LATENT && nf > 0)
          W2T_CHECK(zf / nf > zu / nu + 1.0, "latent: flipped mean z0 %.3f > unflipped %.3f",
                    zf / nf, zu / nu);
        if (kinds[k] != W2_SUP_LATENT && nf > 10)
          W2T_CHECK(fabs(zf / nf - zu / nu) < 0.6, "%s: errors unrelated to z0 (%.3f vs %.3f)",
                    w2_supervisor_kind_name(kinds[k]), zf / nf, zu / nu);
        if (r == 2) {
          /* uniform errors follow the seed; unlearnable ones the row identity only */
          W2T_OK(w2_supervisor_labels(&sup, keep, 12, sb2, NULL));
          int diff = memcmp(sb, sb2, sizeof(float) * keep->n_b) != 0;
          if (kinds[k] == W2_SUP_UNIFORM) W2T_CHECK(diff, "uniform: another seed, other rows");
          else W2T_CHECK(!diff, "%s: independent of the seed", w2_supervisor_kind_name(kinds[k]));
        }
      }
    W2SupervisorSpec bad;
    memset(&bad, 0, sizeof bad);
    snprintf(bad.name, sizeof bad.name, "bad");
    bad.error_rate = 0.6;
    bad.confidence = 0.9;
    W2T_CHECK(w2_supervisor_labels(&bad, keep, 1, sb, st) == W2_ERR_CONFIG,
              "error_rate 0.6 rejected");
    W2T_CHECK(strstr(w2_error_message(), "error_rate") != NULL, "names error_rate");
    w2_error_clear();
    free(sb);
    free(sb2);
    free(st);
    w2_task_data_destroy(&keep);
  }
}

/* File tasks: seeded splits of the file's rows; its /pretrain block (with /pretrain/Y) is
 * the pool of target pretraining (w2_pretrain_source_run). */
static void test_file_task(const W2Grid *grid) {
  const char *path = "test_world_data.h5";
  W2Dataset ds;
  memset(&ds, 0, sizeof ds);
  ds.n = 1300;
  ds.d = 5;
  ds.m = 400;
  ds.k = 3;
  ds.X = malloc(sizeof(float) * ds.n * ds.d);
  ds.y = malloc(sizeof(float) * ds.n);
  ds.PX = malloc(sizeof(float) * ds.m * ds.d);
  ds.PY = malloc(sizeof(float) * ds.m * ds.k);
  for (int i = 0; i < ds.n; i++) {
    for (int j = 0; j < ds.d; j++) ds.X[i * ds.d + j] = (float)(i * 10 + j); /* row id inside */
    ds.y[i] = (float)((i * 7) % 3 == 0);
  }
  for (int i = 0; i < ds.m * ds.d; i++) ds.PX[i] = (float)w2_normal(1, 0, (uint64_t)i);
  for (int i = 0; i < ds.m; i++)
    for (int j = 0; j < ds.k; j++) ds.PY[i * ds.k + j] = ds.PX[i * ds.d + j] > 0 ? 1.f : 0.f;
  W2T_OK(w2_dataset_save(path, &ds));
  W2TaskSpec ft = task("mine", W2_TASK_FILE);
  snprintf(ft.file, sizeof ft.file, "%s", path);
  W2TaskData *td = NULL;
  W2T_OK(w2_task_data_create(&S, NULL, &ft, 5, &td));
  if (td) {
    W2T_CHECK(td->d == 5 && td->dz == 0 && td->Za == NULL && td->n_u == 0,
              "file task shape: d %d dz %d", td->d, td->dz);
    unsigned char *seen = calloc((size_t)ds.n, 1);
    int ok = 1, dup = 0;
    const float *Xs[3] = {td->Xa, td->Xb, td->Xt}, *ys[3] = {td->ya, td->yb, td->yt};
    const long *ids[3] = {td->ida, td->idb, td->idt};
    int ns[3] = {td->n_a, td->n_b, td->n_test};
    for (int sp = 0; sp < 3; sp++)
      for (int i = 0; i < ns[sp]; i++) {
        long r = ids[sp][i];
        ok &= r >= 0 && r < ds.n && Xs[sp][i * 5] == (float)(r * 10) && ys[sp][i] == ds.y[r];
        if (r >= 0 && r < ds.n) {
          dup += seen[r];
          seen[r] = 1;
        }
      }
    W2T_CHECK(ok, "file splits hold the file's rows with their labels");
    W2T_CHECK(dup == 0, "file splits are disjoint (%d repeats)", dup);
    int inorder = 1;
    for (int i = 0; i < td->n_a; i++) inorder &= td->ida[i] == i;
    W2T_CHECK(!inorder, "file rows are permuted");
    W2T_CHECK(td->n_p == 400 && td->k_p == 3 && td->Xp && td->Yp, "pretrain block handed over");
    free(seen);
    /* pretraining on the file's pool */
    W2SizeSpec size;
    memset(&size, 0, sizeof size);
    snprintf(size.name, sizeof size.name, "p");
    size.width = 8;
    size.depth = 1;
    W2Model *m = NULL;
    double fl = 0;
    W2PretrainSource src;
    W2T_OK(w2_pretrain_source(&S, &ft, &src));
    W2T_CHECK(src.kind == W2_PRE_TARGETS && src.d_in == 5 && src.d_out == 3 && src.n_pool == 400,
              "a file with /pretrain/Y pretrains on it: kind %d d %d k %d pool %ld", src.kind,
              src.d_in, src.d_out, src.n_pool);
    W2T_OK(w2_pretrain_source_run(&S, NULL, &size, &src, td->Xp, td->Yp, 3, grid, &m, &fl));
    W2T_CHECK(m && m->arch.d_in == 5 && m->arch.d_out == 3, "pool model shape");
    W2T_CHECK(fabs(fl - w2_pretrain_source_flops(&S, &size, &src)) <= 1e-9 * fl,
              "pool flops exact");
    W2PretrainSource other = src;
    other.data_hash ^= 1;
    W2T_CHECK(w2_pretrain_source_hash(&S, &size, &src, 3) !=
                  w2_pretrain_source_hash(&S, &size, &other, 3),
              "pool hash covers the data");
    w2_model_destroy(&m);
    /* supervisors on a task without latents: exact counts still */
    float *sb = malloc(sizeof(float) * td->n_b);
    for (int kind = 0; kind < 3; kind++) {
      W2SupervisorSpec sup;
      memset(&sup, 0, sizeof sup);
      snprintf(sup.name, sizeof sup.name, "f%d", kind);
      sup.kind = (W2SupervisorKind)kind;
      sup.error_rate = 0.2;
      sup.confidence = 1.0;
      W2T_OK(w2_supervisor_labels(&sup, td, 4, sb, NULL));
      int e = 0;
      for (int i = 0; i < td->n_b; i++) e += sb[i] != td->yb[i];
      W2T_CHECK(e == w2_supervisor_errors(0.2, td->n_b), "file task, %s: %d errors",
                w2_supervisor_kind_name(sup.kind), e);
    }
    free(sb);
  }
  w2_task_data_destroy(&td);
  /* a file with too few rows for the splits: config error naming the file */
  static W2Sweep T;
  T = S;
  T.split.n_test = 1000;
  W2T_CHECK(w2_task_data_create(&T, NULL, &ft, 5, &td) == W2_ERR_CONFIG && td == NULL,
            "too few rows -> W2_ERR_CONFIG");
  W2T_CHECK(strstr(w2_error_message(), path) != NULL, "names the file: %s", w2_error_message());
  w2_error_clear();
  remove(path);
  w2_dataset_free(&ds);
}

static double bce(const float *p, const float *y, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double q = p[i] < 1e-7f ? 1e-7 : (p[i] > 1 - 1e-7f ? 1 - 1e-7 : p[i]);
    s -= y[i] * log(q) + (1 - y[i]) * log(1 - q);
  }
  return s / n;
}

static void test_pretrain(const W2World *w, const W2Grid *grid) {
  W2SizeSpec size;
  memset(&size, 0, sizeof size);
  snprintf(size.name, sizeof size.name, "tiny");
  size.width = 16;
  size.depth = 1;
  size.ranks = 1;
  W2Arch arch;
  w2_pretrain_arch(&S, &size, &arch);
  long n = w2_pretrain_examples(&S, &size);
  W2T_CHECK(arch.d_in == 64 && arch.d_out == 256 && n >= 1500 && n <= 3000,
            "arch and example count (n = %ld)", n);
  /* held-out rows and the loss of the freshly initialised model */
  int nh = 500, d = w->spec.input_dim, dz = w->spec.latent_dim, K = w->spec.pretrain_targets;
  float *X = malloc(sizeof(float) * nh * d), *Z = malloc(sizeof(float) * nh * dz);
  float *Y = malloc(sizeof(float) * (size_t)nh * K), *P = malloc(sizeof(float) * (size_t)nh * K);
  w2_world_sample(w, w2_key(9, "held-out", 0, 0), 0, nh, X, Z);
  w2_world_pretrain_targets(w, Z, nh, Y);
  W2Model *m0 = NULL, *m = NULL;
  W2T_OK(w2_model_create(grid, &arch, &m0));
  double l0 = 0, l1 = 0, flops = 0;
  if (m0) {
    w2_model_init(m0, w2_key(21, "init", (uint64_t)size.width, (uint64_t)size.depth));
    W2T_OK(w2_model_set_batch(m0, 64));
    W2T_OK(w2_model_predict(m0, X, nh, d, P));
    l0 = bce(P, Y, (size_t)nh * K);
  }
  W2T_OK(w2_pretrain(&S, w, &size, 21, grid, &m, &flops));
  if (m) {
    W2T_OK(w2_model_predict(m, X, nh, d, P));
    l1 = bce(P, Y, (size_t)nh * K);
    W2T_CHECK(l1 < l0 - 0.1 && l1 < 0.69, "pretraining reduces held-out loss: %.4f -> %.4f", l0,
              l1);
    W2T_CHECK(fabs(flops - w2_pretrain_flops(&S, &size)) <= 1e-9 * flops,
              "w2_pretrain_flops %g = trained %g", w2_pretrain_flops(&S, &size), flops);
  }
  /* the hash follows exactly the settings that determine the model */
  uint64_t h = w2_pretrain_hash(&S, &size, 21);
  W2T_CHECK(h == w2_pretrain_hash(&S, &size, 21), "hash is deterministic");
  W2T_CHECK(h != w2_pretrain_hash(&S, &size, 22), "hash covers the seed");
  W2SizeSpec s2 = size;
  s2.width = 17;
  W2T_CHECK(h != w2_pretrain_hash(&S, &s2, 21), "hash covers the width");
  s2 = size;
  s2.ranks = 4;
  snprintf(s2.name, sizeof s2.name, "other");
  W2T_CHECK(h == w2_pretrain_hash(&S, &s2, 21), "hash ignores name and ranks");
  static W2Sweep T;
  T = S;
  T.world.render_gain = 0.6;
  W2T_CHECK(h != w2_pretrain_hash(&T, &size, 21), "hash covers the world");
  T = S;
  T.pretrain.hyper.lr = 1e-3f;
  W2T_CHECK(h != w2_pretrain_hash(&T, &size, 21), "hash covers pretraining settings");
  T = S;
  T.finetune.lr = 1.0f;
  T.split.n_b = 7;
  W2T_CHECK(h == w2_pretrain_hash(&T, &size, 21), "hash ignores finetuning and splits");
  w2_model_destroy(&m0);
  w2_model_destroy(&m);
  free(X);
  free(Z);
  free(Y);
  free(P);
}

/* A file without /pretrain: every seed's test split comes from the file's fixed test pool
 * and the pretraining pool (masked reconstruction) is exactly the rows outside it, so no
 * test row of any seed is ever pretrained on. Rows carry their index in column 0. */
static void test_file_pool(const W2Grid *grid) {
  const char *path = "test_world_pool.h5";
  W2Dataset ds;
  memset(&ds, 0, sizeof ds);
  ds.n = 1500;
  ds.d = 3;
  ds.X = malloc(sizeof(float) * ds.n * ds.d);
  ds.y = malloc(sizeof(float) * ds.n);
  for (int i = 0; i < ds.n; i++) {
    ds.X[i * 3] = (float)i;
    ds.X[i * 3 + 1] = (float)w2_normal(3, (uint64_t)i, 1);
    ds.X[i * 3 + 2] = (float)w2_normal(3, (uint64_t)i, 2);
    ds.y[i] = ds.X[i * 3 + 1] > 0 ? 1.f : 0.f;
  }
  W2T_OK(w2_dataset_save(path, &ds));
  W2TaskSpec ft = task("pool", W2_TASK_FILE);
  snprintf(ft.file, sizeof ft.file, "%s", path);
  int pool = w2_dataset_test_pool(ds.n, &S.split); /* min(2 * 500, 1500 - 700) = 800 */
  W2T_CHECK(pool == 800, "test pool of 1500 rows, splits 300/400/500: %d", pool);
  int *order = malloc(sizeof(int) * ds.n);
  w2_dataset_pool_order(ds.n, order);
  char *in_pool = calloc((size_t)ds.n, 1), *pretrained = calloc((size_t)ds.n, 1);
  for (int i = 0; i < pool; i++) in_pool[order[i]] = 1;
  int outside = 0, overlap = 0, same_test = 1;
  long first_test = -1;
  for (uint64_t seed = 0; seed < 4; seed++) {
    W2TaskData *td = NULL;
    W2T_OK(w2_task_data_create(&S, NULL, &ft, seed, &td));
    if (!td) break;
    W2T_CHECK(td->n_p == ds.n - pool && td->k_p == 0 && td->Xp && !td->Yp,
              "pretraining pool: the %d rows outside the test pool (%d)", ds.n - pool, td->n_p);
    for (int i = 0; i < td->n_p; i++) pretrained[(int)td->Xp[i * 3]] = 1;
    for (int i = 0; i < td->n_test; i++) {
      outside += !in_pool[td->idt[i]];
      overlap += pretrained[td->idt[i]];
    }
    if (seed == 0) first_test = td->idt[0];
    else same_test &= td->idt[0] == first_test;
    w2_task_data_destroy(&td);
  }
  int npre = 0;
  for (int i = 0; i < ds.n; i++) npre += pretrained[i];
  W2T_CHECK(npre == ds.n - pool, "the same pretraining rows for every seed (%d)", npre);
  W2T_CHECK(outside == 0, "%d test rows outside the test pool", outside);
  W2T_CHECK(overlap == 0, "%d test rows in the pretraining pool", overlap);
  W2T_CHECK(!same_test, "test splits differ between seeds");
  /* the source: masked reconstruction d -> d on the pool; FLOPs by the world's rule */
  W2PretrainSource src;
  W2T_OK(w2_pretrain_source(&S, &ft, &src));
  W2T_CHECK(src.kind == W2_PRE_MASKED && src.d_in == 3 && src.d_out == 3 &&
                src.n_pool == ds.n - pool,
            "masked source on /X: kind %d d %d->%d pool %ld", src.kind, src.d_in, src.d_out,
            src.n_pool);
  W2SizeSpec size;
  memset(&size, 0, sizeof size);
  snprintf(size.name, sizeof size.name, "p");
  size.width = 16;
  size.depth = 1;
  W2TaskData *td = NULL;
  W2T_OK(w2_task_data_create(&S, NULL, &ft, 0, &td));
  W2Model *m = NULL;
  double fl = 0;
  if (td) W2T_OK(w2_pretrain_source_run(&S, NULL, &size, &src, td->Xp, NULL, 9, grid, &m, &fl));
  if (m) {
    W2T_CHECK(m->arch.d_in == 3 && m->arch.d_out == 3 && m->loss == W2_LOSS_BCE,
              "masked model: 3 -> 3, loss back to BCE after pretraining");
    W2T_CHECK(fabs(fl - w2_pretrain_source_flops(&S, &size, &src)) <= 1e-9 * fl,
              "masked pretraining FLOPs %g = planned %g", fl,
              w2_pretrain_source_flops(&S, &size, &src));
    /* the world's rule on the 3 -> 3 model: n = clamp(params * 0.5, 1500, 3000) rows,
     * ceil(epochs * n / batch) steps of batch 32 over the 700-row pool */
    W2Arch pa = m->arch;
    long n = (long)floor(w2_arch_params(&pa) * S.pretrain.examples_per_param + 0.5);
    n = n < S.pretrain.min_examples ? S.pretrain.min_examples : n;
    n = n > S.pretrain.max_examples ? S.pretrain.max_examples : n;
    double want = w2_arch_step_flops(&pa, 32, 0) *
                  (double)w2_train_steps_for_epochs((int)n, 32, S.pretrain.hyper.epochs);
    W2T_CHECK(fabs(fl - want) <= 1e-9 * want, "pool pretraining follows the world's rule: "
              "%g FLOPs, want %g", fl, want);
    /* predictions of the 3-input model on 3-column rows run */
    float *P = malloc(sizeof(float) * td->n_p * 3);
    W2T_OK(w2_model_predict(m, td->Xp, td->n_p, 3, P));
    /* a model given the data of another width is refused, never read past the rows */
    W2T_CHECK(w2_model_predict(m, td->Xt, td->n_test, 2, P) == W2_ERR_INTERNAL,
              "predict with 2 columns on a 3-input model fails loudly");
    w2_error_clear();
    W2TrainSpec bad = {.X = td->Xp, .d = 4, .Y = td->Xp, .n = 10, .batch = 5, .steps = 1};
    W2T_CHECK(w2_train(m, &bad, NULL) == W2_ERR_INTERNAL, "train with 4 columns fails loudly");
    w2_error_clear();
    free(P);
  }
  w2_model_destroy(&m);
  w2_task_data_destroy(&td);
  /* the content key: the same shape with other values is another source */
  ds.X[5] += 1.f;
  W2T_OK(w2_dataset_save(path, &ds));
  W2PretrainSource src2;
  W2T_OK(w2_pretrain_source(&S, &ft, &src2));
  W2T_CHECK(!w2_pretrain_source_same(&src, &src2) &&
                w2_pretrain_source_hash(&S, &size, &src, 9) !=
                    w2_pretrain_source_hash(&S, &size, &src2, 9),
            "a changed /X is a new pretraining source and key");
  free(order);
  free(in_pool);
  free(pretrained);
  remove(path);
  w2_dataset_free(&ds);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  sweep_small(&S);
  test_spec_errors();
  W2World *w = NULL;
  W2T_OK(w2_world_create(&S.world, &w));
  W2Grid *grid = NULL;
  W2T_OK(w2_grid_create(MPI_COMM_SELF, 1, 1, 0, &grid));
  if (w && grid) {
    test_sampling_pure(w);
    test_task_data(w);
    test_pretrain(w, grid);
    test_file_task(grid);
    test_file_pool(grid);
  }
  w2_world_destroy(&w);
  w2_grid_destroy(&grid);
  int rc = w2t_summary();
  MPI_Finalize();
  return rc;
}
