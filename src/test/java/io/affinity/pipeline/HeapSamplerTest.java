package io.affinity.pipeline;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeapSamplerTest {
  @Test
  void recordsThePeakOfHeapHeldDuringTheStageAndTheLiveHeapAfterACollection() throws InterruptedException {
    long before = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / (1024 * 1024);
    Map<String, Object> peaks;
    try (HeapSampler sampler = HeapSampler.start()) {
      List<byte[]> held = new ArrayList<>();
      for (int i = 0; i < 64; i++) {
        held.add(new byte[1024 * 1024]); // 64 MB live
      }
      Thread.sleep(200); // a few sampling intervals while the 64 MB are held
      System.gc();
      Thread.sleep(100); // the collection's notification arrives on another thread
      peaks = sampler.peaks();
      assertTrue(held.size() == 64);
    }
    long peak = (Long) peaks.get("peak_heap_mb");
    assertTrue(peak >= 64, "peak " + peak + " MB must include the 64 MB held (heap before: " + before + " MB)");
    Object afterGc = peaks.get("peak_heap_after_gc_mb");
    assertNotNull(afterGc, "a collection ran, so the live heap after it is known");
    assertTrue((Long) afterGc >= 64, "the 64 MB were live through the collection: " + afterGc);
  }
}
