/**
 * @suido/detect: streaming leak detection and the alert engine.
 *
 * Not built yet (issue 3): windows per sensor over the frames ingest stores,
 * an ONNX model trained in this repo, scores as a time series, and alerts
 * raised with persistence and cleared with hysteresis. Nothing is exported
 * until it exists, so nothing can depend on a stub.
 */
export {};
