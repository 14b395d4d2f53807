/**
 * Deterministic sample-data generator for the Affinity pipeline.
 *
 * <p>{@link io.affinity.sample.SampleGenerator} writes a seeded, realistic e-commerce data set
 * (users, items, events, ratings) together with the ground truth it planted: user archetypes and
 * preferred categories, and every deliberately bad row with the reason code the pipeline is expected
 * to assign. It is plain Java on purpose, so it runs without Spark and can produce tens of millions of
 * events on a laptop for benchmarks, and so the committed {@code data-samples/} set can be proven to
 * come from it byte for byte.
 */
package io.affinity.sample;
