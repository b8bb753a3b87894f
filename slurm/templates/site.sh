# site.sh — the site header of w2sweep's sbatch scripts: copy this file, edit it for your
# cluster, and pass it with `w2sweep slurm SWEEP.cfg --site my-site.sh`. Its lines are copied
# verbatim into every generated script, right after w2sweep's own #SBATCH lines and before the
# first command, so it may carry both:
#   * further #SBATCH lines (sbatch reads them because no command precedes them), and
#   * shell lines run at the start of every job: modules, environment.
# It is your own shell code: w2sweep does not quote or check it (unlike every value it writes
# itself). Lines that start with "#" and are not #SBATCH are comments.

# ---- more sbatch options (uncomment and edit) -----------------------------------------
##SBATCH --constraint=REPLACE_ME          # node features, e.g. cpu type
##SBATCH --mem-per-cpu=4G                 # or: w2sweep slurm --mem 16G (per node)
##SBATCH --cpus-per-task=1                # one core per MPI rank is what w2sweep expects
##SBATCH --mail-type=FAIL
##SBATCH --mail-user=REPLACE_ME@example.org
##SBATCH --exclusive                      # whole nodes for the one-job mode

# ---- software (the same MPI, HDF5 and BLAS that w2sweep was built with) ----------------
# module purge
# module load REPLACE_ME/openmpi REPLACE_ME/hdf5-parallel REPLACE_ME/openblas REPLACE_ME/gsl

# ---- environment ------------------------------------------------------------------------
# Parallel file systems (Lustre, GPFS, NFS) often refuse HDF5 file locks. w2sweep's own files
# do not lock (runner.file_locking = false, the default); for other HDF5 tools in the job:
# export HDF5_USE_FILE_LOCKING=FALSE
# One BLAS thread per rank (the scripts default to this when the site does not set it):
# export OPENBLAS_NUM_THREADS=1
# Jobs run as root only in test containers; never needed on a real cluster:
# export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
