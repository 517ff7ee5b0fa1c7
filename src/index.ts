/**
 * levit as a library: the package's entry (`import { ... } from 'levit'`). Everything the commands do is
 * here, without the CLI: find a model, convert it, open an inference session, bench and eval from code.
 * See "Use levit from code" in README.md.
 */

// Models: the zoo's cards, found by id or by the names timm and the official repositories use.
export { findCard, getCard, listCards, modelKey } from './models/registry.js';
export { selectModels } from './models/select.js';
export type { ModelCard } from './models/families.js';
export type { Preprocessing, PublishedAccuracy } from './models/card.js';
export { countsOf, listZoo, type ZooEntry } from './classifier/zoo.js';

// Token fusion (MCTF, ToMe) for DeiT and ViT: a card built with it; convert, open, bench and eval take that card.
export { withTokenFusion } from './models/registry.js';
export { FUSION_METHODS, NO_FUSION, fusionName, parseTokenFusion, type FusionMethod, type TokenFusion } from './models/fusion/spec.js';

// Convert: a model and its weights to an ONNX file or a TF.js directory.
export { convertModel, ensureArtifact, artifactPath, type Artifact, type ConvertResult } from './classifier/convert.js';
export type { ModelCounts, ResolvedWeights, WeightsChoice, WeightsInfo } from './classifier/model.js';
export { FP32, type PrecisionSpec } from './classifier/precision.js';

// Sessions: a model opened on a backend (ort-cpu, ort-wasm, tfjs-*), logits from float32 NCHW inputs.
export { openClassifier, resolveClassifierWeights, type Classifier, type OpenOptions } from './classifier/session.js';
export type { ThreadSpec } from './util/cpus.js';
export { getBackend, probeAll, requireBackend } from './runtime/registry.js';
export { defaultDownloadOptions, type DownloadOptions } from './download/checkpoints.js';
export type { Backend, InferenceSession } from './runtime/backend.js';
export { floatTensor, type FloatTensor, type Tensor } from './core/tensor.js';

// Images: decoding and torchvision's evaluation transform on PIL, exactly.
export { decodeRgb, type RgbImage } from './preprocess/decode.js';
export { evalTransform, evalTransformInto } from './preprocess/transform.js';
export { imagenetClasses, topK, type Prediction } from './imagenet/classes.js';

// Bench and eval.
export { DEFAULT_MODELS, runBench, type BenchEvents, type BenchPlan } from './bench/runner.js';
export type { BenchRecord, BenchResults } from './results/types.js';
export { benchCsv, evalCsv } from './render/csv.js';
export { openDataset, type Dataset } from './eval/dataset.js';
export { evaluate, type EvalOptions, type EvalSummary } from './eval/run-eval.js';
export { withPreprocessing, type PreprocessingOverrides } from './eval/overrides.js';

// Errors: every failure is a LevitError with an exit code and a hint.
export { CheckpointMismatchError, CorruptFileError, ExitCode, LevitError } from './core/errors.js';
