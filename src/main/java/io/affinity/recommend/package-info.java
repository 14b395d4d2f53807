/**
 * Stage {@code recommend}: ALS collaborative filtering (implicit interactions or explicit ratings)
 * tuned on a time-based validation split against a recent and an all-time popularity baseline,
 * blocked top-N ranking with exclusions, fallbacks and a few new items by content for every user,
 * item-to-item similarity by ALS, item text or their blend, and per-row explanations.
 *
 * <p>One class per concern, {@link io.affinity.recommend.RecommendStage} only orchestrates:
 * {@code Validation} (the split, the candidate grid, the content slots and the blend weight chosen
 * by next-item hit rate), {@code ValidationReuse} (a recent published run's validation standing in
 * for a new one, {@code revalidate-every-days}), {@code Popularity} (recent and all-time baselines and fallbacks),
 * {@code RankingEvaluation} (precision, recall, NDCG, MAP, RMSE), {@code BeyondAccuracy} (coverage,
 * novelty, diversity, serendipity as in MS Recommenders), {@code LineageCut} (the validation's
 * many-times-read intermediates behind one-node plans), {@code TrainingData}, {@code ScoringModel}
 * (the broadcast item side), {@code RankingInputs} (one row per user of features/users with its
 * factors, exclusions, history and segment), {@code BlockTopN} and {@code UserRanker} (top-N per user, content
 * slots), {@code ContentSimilarity} (item texts from the items input or the most frequent
 * event-line description, TF-IDF with MLlib, an inverted index instead of a cross join) and
 * {@code SimilarItems} ({@code als}, {@code content} or {@code blend} lists, and the weight grid
 * the validation compares). The planted content structure its end-to-end test checks comes from
 * {@code io.affinity.sample.ContentProfile}. Schemas, metric definitions and operations:
 * docs/RECOMMEND.md.
 */
package io.affinity.recommend;
