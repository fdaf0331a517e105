import Foundation
import Testing

@testable import SwitchboardCore

/// Accuracy on the hand-written development set: the bar the rules must keep.
@Suite struct DevSetTests {
    static let folder = Repo.root.appendingPathComponent("Tests/SwitchboardCoreTests/DevSet").path

    func evaluate(_ file: String) throws -> Evaluation {
        let rows = try Repo.jsonLines("\(Self.folder)/\(file)")
        let samples = rows.compactMap { row -> Evaluation.Sample? in
            guard let text = row["text"] as? String, let intent = row["intent"] as? String else { return nil }
            return .init(text: text, intent: IntentID(intent), dialect: (row["dialect"] as? String).map(DialectID.init(rawValue:)))
        }
        #expect(samples.count >= 400, "\(file) has only \(samples.count) labelled lines")
        return Evaluation(ruleSet: try Repo.ruleSet(), samples: samples)
    }

    @Test func developmentSetAccuracyIsAtLeast90Percent() throws {
        let e = try evaluate("dev.jsonl")
        #expect(e.total >= 1200)
        #expect(e.accuracy >= 0.90, "accuracy \(e.accuracy); top confusions: \(e.confusions.sorted { $0.value > $1.value }.prefix(8))")
    }

    @Test func heldOutSetAccuracyStaysClose() throws {
        let e = try evaluate("heldout.jsonl")
        #expect(e.accuracy >= 0.85, "accuracy \(e.accuracy); top confusions: \(e.confusions.sorted { $0.value > $1.value }.prefix(8))")
    }

    @Test func everyIntentIsRecognisedMostOfTheTime() throws {
        let e = try evaluate("dev.jsonl")
        for (intent, counts) in e.perIntent {
            #expect(Double(counts.correct) / Double(counts.total) >= 0.7, "\(intent): \(counts.correct)/\(counts.total)")
        }
    }

    @Test func labelledDialectLinesAreDetected() throws {
        let e = try evaluate("dev.jsonl")
        #expect(e.dialectLabelled >= 100)
        #expect(Double(e.dialectDetected) / Double(e.dialectLabelled) >= 0.8, "\(e.dialectDetected)/\(e.dialectLabelled)")
    }
}
