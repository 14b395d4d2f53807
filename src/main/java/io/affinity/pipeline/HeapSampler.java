package io.affinity.pipeline;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Peak heap of this JVM while one stage runs, for the manifest. In local mode the driver JVM is also
 * the executor, so this is the memory the whole stage needed. Two figures:
 * <ul>
 *   <li>{@code peak_heap_mb}: the largest used heap seen by a daemon thread sampling every
 *       {@value #INTERVAL_MS} ms (includes garbage not yet collected, so it tends towards the heap
 *       size under allocation pressure);
 *   <li>{@code peak_heap_after_gc_mb}: the largest heap still in use right after a garbage
 *       collection, i.e. the live data the stage held (null when no collection happened).
 * </ul>
 * Cheap: one MXBean read per interval and one listener call per collection.
 */
public final class HeapSampler implements AutoCloseable {
  private static final long INTERVAL_MS = 50;
  private static final double MB = 1024.0 * 1024.0;

  private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
  private final AtomicLong peakUsed = new AtomicLong();
  private final AtomicLong peakAfterGc = new AtomicLong(-1);
  private final Thread thread;
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onGc;
  private final Set<String> heapPools = new HashSet<>();
  private volatile boolean running = true;

  private HeapSampler() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        heapPools.add(pool.getName());
      }
    }
    sample();
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof NotificationEmitter e) {
        e.addNotificationListener(listener, null, null);
        emitters.add(e);
      }
    }
    thread = new Thread(this::loop, "affinity-heap-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts sampling now. */
  public static HeapSampler start() {
    return new HeapSampler();
  }

  private void loop() {
    while (running) {
      sample();
      try {
        Thread.sleep(INTERVAL_MS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sample() {
    long used = memory.getHeapMemoryUsage().getUsed();
    peakUsed.accumulateAndGet(used, Math::max);
  }

  private void onGc(Notification n, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
      return;
    }
    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
    long before = heapUsed(info.getGcInfo().getMemoryUsageBeforeGc());
    long after = heapUsed(info.getGcInfo().getMemoryUsageAfterGc());
    peakUsed.accumulateAndGet(before, Math::max);
    peakAfterGc.accumulateAndGet(after, Math::max);
  }

  /** Sum of the heap pools of a collection's before/after map (the maps also hold non-heap pools). */
  private long heapUsed(Map<String, MemoryUsage> pools) {
    long used = 0;
    for (Map.Entry<String, MemoryUsage> e : pools.entrySet()) {
      if (heapPools.contains(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    return used;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    for (NotificationEmitter e : emitters) {
      try {
        e.removeNotificationListener(listener);
      } catch (javax.management.ListenerNotFoundException ignored) {
        // already removed
      }
    }
  }

  /** The peaks so far: {@code peak_heap_mb} and {@code peak_heap_after_gc_mb} for the manifest entry. */
  public Map<String, Object> peaks() {
    sample();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("peak_heap_mb", Math.round(peakUsed.get() / MB));
    long after = peakAfterGc.get();
    m.put("peak_heap_after_gc_mb", after < 0 ? null : Math.round(after / MB));
    return m;
  }
}
