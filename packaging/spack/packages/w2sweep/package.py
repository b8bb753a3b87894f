# Spack package for w2sweep (this repository's own; not in Spack's builtin repository).
#
#   spack repo add packaging/spack              # once, from the checkout
#   spack dev-build -d . w2sweep@develop        # build this checkout and install it
#   spack install --test=root ...               # also runs the test suite (ctest)
#
# or in an environment: `spack develop --path . w2sweep@develop && spack add w2sweep@develop
# && spack install`. See INSTALL.md, "Spack".
from spack.package import *


class W2sweep(CMakePackage):
    """Weak-to-strong generalization scaling studies (Burns et al. 2023) on MPI clusters,
    in C: pretraining, weak supervisors, strong students and scaling-law fits over a grid
    of sizes, methods, tasks and seeds, with one HDF5 results file."""

    # Built from a checkout (spack dev-build / spack develop); there is no release tarball.
    version("develop")

    variant("native", default=False, description="Tune for the build machine (-march=native)")
    variant("bench", default=False, description="Build the benchmark programs in bench/")
    variant("analysis", default=False,
            description="Also provide h5py, pandas and matplotlib for analysis/*.py")

    depends_on("c", type="build")  # Spack >= 0.22 (compilers as dependencies)
    depends_on("cmake@3.18:", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    # the parallel HDF5 with its high-level library (dimension scales: hdf5_hl)
    depends_on("hdf5@1.10:+mpi+hl")
    depends_on("scalapack")
    # CBLAS and LAPACK are called directly; openblas provides both
    depends_on("blas")
    depends_on("lapack")
    depends_on("libconfig")
    depends_on("gsl")
    # the figures and the Python reader (analysis/); only at run time, only for them
    depends_on("py-h5py", type="run", when="+analysis")
    depends_on("py-pandas", type="run", when="+analysis")
    depends_on("py-matplotlib", type="run", when="+analysis")

    # w2sweep finds every library through pkg-config (INSTALL.md). Spack's HDF5, ScaLAPACK
    # and BLAS do not all ship .pc files under the names CMakeLists.txt asks for, so the
    # build writes its own from the specs' libraries and headers.
    @property
    def pc_dir(self):
        return join_path(self.stage.path, "w2sweep-pkgconfig")

    def _write_pc(self, name, libs, headers):
        mkdirp(self.pc_dir)
        cflags = " ".join("-I" + d for d in headers)
        with open(join_path(self.pc_dir, name + ".pc"), "w") as f:
            f.write("Name: %s\nDescription: %s for w2sweep (from Spack)\nVersion: 0\n"
                    "Cflags: %s\nLibs: %s\n" % (name, name, cflags, libs.ld_flags))

    @run_before("cmake")
    def write_pkgconfig_files(self):
        spec = self.spec
        self._write_pc("w2-hdf5", spec["hdf5"].libs, spec["hdf5"].headers.directories)
        self._write_pc("w2-scalapack", spec["scalapack"].libs, [])
        blas_libs = spec["lapack"].libs + spec["blas"].libs
        try:
            blas_headers = spec["blas"].headers.directories
        except Exception:  # a BLAS whose package lists no headers: cblas.h on the default path
            blas_headers = []
        self._write_pc("w2-blas", blas_libs, blas_headers)

    def setup_build_environment(self, env):
        env.prepend_path("PKG_CONFIG_PATH", self.pc_dir)
        # the tests start more ranks than a build node may offer (Open MPI's variable;
        # inert under other MPIs)
        env.set("OMPI_MCA_rmaps_base_oversubscribe", "1")
        env.set("OPENBLAS_NUM_THREADS", "1")

    def setup_run_environment(self, env):
        env.set("OPENBLAS_NUM_THREADS", "1")
        env.set("HDF5_USE_FILE_LOCKING", "FALSE")
        env.prepend_path("PYTHONPATH", join_path(self.prefix.share, "w2sweep", "analysis"))

    def cmake_args(self):
        args = [
            self.define("W2SWEEP_HDF5_PC", "w2-hdf5"),
            self.define("W2SWEEP_SCALAPACK_PC", "w2-scalapack"),
            self.define("W2SWEEP_BLAS_PC", "w2-blas"),
            self.define_from_variant("W2SWEEP_NATIVE", "native"),
            self.define_from_variant("W2SWEEP_BUILD_BENCH", "bench"),
            self.define("BUILD_TESTING", self.run_tests),
            # the launcher the tests use: this spec's MPI, with plain flags
            self.define("MPIEXEC_EXECUTABLE", getattr(self.spec["mpi"], "mpiexec",
                                                      join_path(self.spec["mpi"].prefix.bin,
                                                                "mpiexec"))),
            self.define("MPIEXEC_PREFLAGS", ""),
        ]
        return args

    @run_after("install")
    def install_analysis(self):
        # the figures, the Python reader and the sweep files next to the binary
        dest = join_path(self.prefix.share, "w2sweep")
        src = self.stage.source_path
        for d in ("analysis", "sweeps"):
            install_tree(join_path(src, d), join_path(dest, d))
        install(join_path(src, "results", "SCHEMA.md"), dest)
