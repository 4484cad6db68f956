// Package train trains lmxlab models: optimizers, learning-rate schedules, gradient clipping,
// the Trainer loop, callbacks and atomic, resumable checkpoints.
//
// # Data flow of one update
//
// A Trainer holds a Model (a pointer to an nn module) and a Loss closure that computes the mean
// loss of a batch from the model's current parameter fields. For each update it draws
// Config.GradAccumulationSteps batches from a BatchSource and runs a pure step function whose
// inputs and outputs are explicit:
//
//	inputs:  all model parameters (trainable and frozen), optimizer state, x, y,
//	         step (1-based, float32 scalar), lr (float32 scalar) [, random key]
//	inside:  set the model's fields to the inputs (nn.UpdateList), mx.ValueAndGrad of Loss over
//	         the trainable parameters, ClipGradNorm, Optimizer.Update
//	outputs: loss, gradient norm, new trainable parameters, new optimizer state
//
// With Config.CompileStep the function goes through mx.Compile: it is traced once per batch
// shape and replayed, and since step, lr and the key are inputs, nothing retraces as they
// change. Without it the same function runs eagerly and mx.Eval realizes loss, parameters and
// state together in one program. Either way the Trainer then writes the new parameters back
// into the model's fields, so between updates the model always holds realized arrays; the
// model's original fields are restored after every call of the step function, also when
// tracing panics. Frozen parameters are inputs too, so a compiled step never bakes stale
// weights into its program. With accumulation, a compiled gradient function adds each
// micro-batch's float32 gradients and loss into running sums, and a compiled apply function
// averages them (over the micro-batches actually drawn, so a partial tail at the end of the data
// still updates), clips, and updates: k micro-batches of size B give the update of one batch of
// size k·B.
//
// Optimizers (AdamW with PyTorch's bias correction, SGD with momentum, Lion) are pure functions
// over flat lists of arrays (Optimizer.Update); their state is float32 whatever the parameters'
// dtype. A Schedule maps the 0-based update index to the rate that update uses; every schedule
// accepts warmup 0.
//
// # Loop, evaluation and stopping
//
// Train runs until Config.MaxSteps updates, the end of the data, or a callback's stop. After an
// update it evaluates every Config.EvalInterval updates on a fresh stream from EvalData (so every
// evaluation sees the same Config.EvalBatches batches), calls OnEval and OnStepEnd of each
// Callback, and writes a checkpoint every Config.CheckpointInterval updates and at the end when
// Config.CheckpointDir is set. A callback returning true stops training for real
// (EarlyStopping, Budget; Config.TimeBudgetS and Config.FlopBudget add a Budget by themselves),
// and Trainer.StopReason records why.
//
// With Config.StepsPerCall k > 1 (by default 4 on a device other than the cpu, when steps are
// compiled and there is no gradient accumulation) Train runs up to k updates in one compiled
// program (Trainer.StepMany) and then handles each update's metrics in turn: the updates and
// every figure are the same as one at a time, calls end at evaluation and checkpoint steps, and a
// callback's stop takes effect after the call's last update.
//
// # Checkpoints and resuming
//
// A checkpoint is a directory holding config.json (the model config), model.safetensors,
// optimizer.safetensors ("<param>.m", "<param>.v", ...) and trainer_state.json (update count,
// seed, tokens, elapsed time, best eval loss, the data source's position, the config). It is
// written into a temporary directory beside the target, synced, and swapped in atomically, so a
// crash or an error never leaves a torn checkpoint. LoadCheckpoint checks names and shapes
// strictly. A run resumed from a checkpoint with a Resumable data source continues with
// bitwise-identical losses: parameters and optimizer moments are stored exactly, the schedule and
// the per-update random keys depend only on the update index and the seed, and the data source
// is put back at its saved position.
package train
