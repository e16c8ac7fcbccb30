// SUNDIALS CVODE (v6) behind the Stepper interface: variable-order BDF with a Newton iteration
// and a dense direct linear solver, for stiff models. Hindmarsh et al., ACM TOMS 2005;31:363.
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <algorithm>
#include <string>

#include "medtwin/sim/stepper.h"

namespace medtwin::sim {
namespace {

class CvodeStepper final : public Stepper {
 public:
  CvodeStepper(int n, const Tolerances& tol) : n_(n), tol_(tol) {
    SUNContext_Create(nullptr, &ctx_);
    y_ = N_VNew_Serial(n_, ctx_);
    N_VConst(0.0, y_);
  }
  CvodeStepper(const CvodeStepper&) = delete;
  CvodeStepper& operator=(const CvodeStepper&) = delete;
  ~CvodeStepper() override {
    if (mem_ != nullptr) CVodeFree(&mem_);
    if (solver_ != nullptr) SUNLinSolFree(solver_);
    if (matrix_ != nullptr) SUNMatDestroy(matrix_);
    N_VDestroy(y_);
    SUNContext_Free(&ctx_);
  }

  Status Reset(const OdeSystem& system, double t, std::span<const double> x) override {
    system_ = system;
    std::copy(x.begin(), x.end(), N_VGetArrayPointer(y_));
    t_ = t;
    fresh_ = true;
    int flag = 0;
    if (mem_ == nullptr) {
      mem_ = CVodeCreate(CV_BDF, ctx_);
      flag |= CVodeInit(mem_, &CvodeStepper::Rhs, t, y_);
      flag |= CVodeSStolerances(mem_, tol_.rtol, tol_.atol);
      matrix_ = SUNDenseMatrix(n_, n_, ctx_);
      solver_ = SUNLinSol_Dense(y_, matrix_, ctx_);
      flag |= CVodeSetLinearSolver(mem_, solver_, matrix_);
      flag |= CVodeSetUserData(mem_, this);
      flag |= CVodeSetMaxNumSteps(mem_, tol_.max_steps);
    } else {
      flag = CVodeReInit(mem_, t, y_);
    }
    if (flag != CV_SUCCESS) {
      return Error{ErrorCode::kSolverFailure, "cvode", "could not initialize CVODE"};
    }
    return Ok{};
  }

  Status AdvanceTo(double t, double stop_t, std::span<double> x_out) override {
    // CVODE refuses tout == t0 on its first call; that state is simply the one we were given.
    if (!(fresh_ && t == t_)) {
      CVodeSetStopTime(mem_, stop_t);
      double t_ret = 0;
      int flag = CVode(mem_, t, y_, &t_ret, CV_NORMAL);
      if (flag < 0) {
        return Error{ErrorCode::kSolverFailure, "cvode",
                     std::string("CVode failed before t=") + std::to_string(t) + ": " +
                         CVodeGetReturnFlagName(flag)};
      }
      fresh_ = false;
      t_ = t;
    }
    const double* y = N_VGetArrayPointer(y_);
    std::copy(y, y + n_, x_out.begin());
    return Ok{};
  }

  long Evaluations() const override { return evaluations_; }

 private:
  static int Rhs(sunrealtype t, N_Vector y, N_Vector ydot, void* user_data) {
    auto* self = static_cast<CvodeStepper*>(user_data);
    const auto n = static_cast<std::size_t>(self->n_);
    self->system_.Evaluate(t, std::span<const double>(N_VGetArrayPointer(y), n),
                           std::span<double>(N_VGetArrayPointer(ydot), n));
    ++self->evaluations_;
    return 0;
  }

  sunindextype n_;
  Tolerances tol_;
  OdeSystem system_;
  SUNContext ctx_ = nullptr;
  N_Vector y_ = nullptr;
  void* mem_ = nullptr;
  SUNMatrix matrix_ = nullptr;
  SUNLinearSolver solver_ = nullptr;
  double t_ = 0;
  bool fresh_ = true;
  long evaluations_ = 0;
};

}  // namespace

std::unique_ptr<Stepper> MakeCvodeStepper(int n, const Tolerances& tolerances) {
  return std::make_unique<CvodeStepper>(n, tolerances);
}

}  // namespace medtwin::sim
